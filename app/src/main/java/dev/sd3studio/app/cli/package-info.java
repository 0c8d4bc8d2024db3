/**
 * The sd3studio command line (picocli): generate, tokenize, check-model, bench. One-line errors, no stack traces.
 */
package dev.sd3studio.app.cli;
