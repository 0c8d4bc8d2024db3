package dev.sd3studio.engine.api;

import java.util.List;
import java.util.Map;

/**
 * What a generation produced: the images (NHWC in [0, 1], before 8-bit rounding), the request
 * with every default resolved (the seed included), warnings and stage timings.
 */
public record GenerationResult(FloatTensor images, GenerationRequest resolved, List<String> warnings,
                               Map<String, Long> timingsMs) {
    public int count() {
        return (int) images.dim(0);
    }

    public RgbImage image(int index) {
        FloatTensor one = images.slice(index, index + 1);
        return new RgbImage((int) images.dim(2), (int) images.dim(1), one.data());
    }
}
