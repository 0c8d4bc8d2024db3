/**
 * The gallery on disk: PNG files with their parameters in text chunks, written atomically, read
 * back at start, deleted with undo, exported to PNG/JPEG. No JavaFX here.
 */
package dev.sd3studio.app.gallery;
