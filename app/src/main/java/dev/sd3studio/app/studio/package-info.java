/**
 * The studio: the JavaFX application, its launcher and the composition root ({@link
 * dev.sd3studio.app.studio.Studio}). Views live in {@code view}, state in {@code vm}, background
 * work behind {@code task}.
 */
package dev.sd3studio.app.studio;
