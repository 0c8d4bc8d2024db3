/**
 * Model folders on disk: layout detection (Optimum, TensorStack), the config records read from them, and the check-model report. Everything the pipeline needs to know about sizes comes from here, never from constants.
 */
package dev.sd3studio.engine.model;
