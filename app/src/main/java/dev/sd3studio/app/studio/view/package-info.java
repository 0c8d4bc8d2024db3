/**
 * JavaFX views: they build controls and bind them to the view-models, and nothing else. No state
 * of their own beyond what a control needs, no threads, no engine calls.
 */
package dev.sd3studio.app.studio.view;
