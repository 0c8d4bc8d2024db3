/**
 * What the studio remembers between runs (window layout, last parameters, theme, model and output
 * folders, prompt history) and where it keeps it. Plain records and files: no JavaFX here.
 */
package dev.sd3studio.app.settings;
