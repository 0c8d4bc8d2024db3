/**
 * The gallery on disk: PNG files with their parameters in text chunks, written atomically, read
 * back at start, deleted with undo, exported to PNG/JPEG. What a picture's text says is read as
 * data from anyone: a stored mask is size-checked before decoding, and recorded LoRAs (name, SHA-256,
 * scale) are found again only among the user's own LoRA folders, never by a path. No JavaFX here.
 */
package dev.sd3studio.app.gallery;
