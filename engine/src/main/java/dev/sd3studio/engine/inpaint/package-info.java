/**
 * Inpainting's own arithmetic, pure and without ONNX: the mask as the reference's mask processor
 * makes it, and the per-step blend that puts the re-noised start picture back outside the mask
 * (fixtures README §6). The pipeline calls into it; nothing here knows a session or a UI.
 */
package dev.sd3studio.engine.inpaint;
