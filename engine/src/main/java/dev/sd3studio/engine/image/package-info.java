/**
 * The input side of image-to-image: reading a dropped picture and resizing it.
 *
 * <p><b>Formats</b> ({@link dev.sd3studio.engine.image.ImageLoader}), all through ImageIO plus the
 * TwelveMonkeys plugins, no decoder of our own: PNG (8/16-bit, palette, grey, alpha), JPEG (incl.
 * greyscale and CMYK/YCCK, EXIF orientation applied), BMP, GIF (first frame) and WebP (lossy and
 * lossless). Everything becomes RGB floats in [0, 1]; alpha is composited over white; grey is read
 * as stored (not through Java's linear grey space, which would brighten it); 16-bit samples end
 * up as 8-bit-precise RGB or exact grey.
 *
 * <p><b>Bad pictures</b> (missing, empty, not a picture, truncated, 0×0, a header above
 * {@link dev.sd3studio.engine.image.ImageLoader#MAX_SIDE} per side or
 * {@link dev.sd3studio.engine.image.ImageLoader#MAX_PIXELS}) fail with a BAD_IMAGE
 * {@link dev.sd3studio.engine.api.EngineException} naming the file and the problem; the size is
 * checked from the header before any pixel is decoded. Pictures above
 * {@link dev.sd3studio.engine.image.ImageLoader#MAX_DECODED_PIXELS} are decoded subsampled, which
 * bounds the memory of a decompression bomb.
 *
 * <p><b>Size</b>: the picture is resized to the requested width × height with Lanczos-3
 * ({@link dev.sd3studio.engine.image.LanczosResize}, PIL's LANCZOS as the reference uses, to
 * within about 1/255 since PIL rounds to 8 bits between passes); the aspect ratio is not kept. With
 * no size given, {@link dev.sd3studio.engine.pipeline.SizePolicy} picks the picture's own aspect at
 * about the model's default pixel count (width·height ≈ default²), each side rounded to the
 * nearest multiple of 16 (VAE factor 8 × patch 2), at least 16 and at most the model's largest
 * side: a 4000×3000 photo on a 1024² model becomes 1184×880. (The reference instead falls back to
 * the default 1024×1024, stretching the picture.)
 */
package dev.sd3studio.engine.image;
