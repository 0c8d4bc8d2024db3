/**
 * NumPy .npy/.npz reading and writing, and atomic file writes.
 */
package dev.sd3studio.engine.io;
