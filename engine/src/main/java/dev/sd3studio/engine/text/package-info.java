/**
 * Prompt to embeddings: DJL tokenizers loaded from local files only, and the CLIP and T5 encoder sessions (sd3-pipeline.md §1–2).
 */
package dev.sd3studio.engine.text;
