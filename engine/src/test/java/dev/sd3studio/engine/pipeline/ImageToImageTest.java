package dev.sd3studio.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.diffusion.TorchCpuGenerator;
import dev.sd3studio.engine.model.VaeConfig;
import org.junit.jupiter.api.Test;

/** The latent arithmetic of image-to-image (fixtures README §5.9). */
class ImageToImageTest {
    private static final VaeConfig VAE = new VaeConfig(1.5305, 0.0609, 4, 8);

    @Test
    void directLatentSampleIsShiftedAndScaled() {
        FloatTensor z = new TorchCpuGenerator(3).randn(new long[] {1, 4, 2, 3});
        FloatTensor out = ImageToImage.imageLatents(z, false, null, VAE);
        assertArrayEquals(z.shape(), out.shape());
        for (int i = 0; i < z.data().length; i++) {
            assertEquals((z.data()[i] - 0.0609f) * 1.5305f, out.data()[i], 0f);
        }
    }

    /** [mean | logvar] on the channel axis: z = mean + exp(½·clamp(logvar, −30, 20))·ε. */
    @Test
    void latentParametersSampleThePosteriorWithClampedLogvar() {
        int c = 4;
        int plane = 6;
        float[] params = new float[2 * c * plane];
        float[] logvars = {-100f, -30f, -1.5f, 0f, 20f, 100f};
        for (int ch = 0; ch < c; ch++) {
            for (int k = 0; k < plane; k++) {
                params[ch * plane + k] = 0.1f * ch - 0.05f * k;
                params[(c + ch) * plane + k] = logvars[k];
            }
        }
        FloatTensor encoded = new FloatTensor(new long[] {1, 2 * c, 2, 3}, params);
        FloatTensor eps = new TorchCpuGenerator(7).randn(new long[] {1, c, 2, 3});
        FloatTensor out = ImageToImage.imageLatents(encoded, true, eps, VAE);
        assertArrayEquals(new long[] {1, c, 2, 3}, out.shape());
        assertArrayEquals(new long[] {1, 2 * c, 2, 3}, encoded.shape(), "input left as it was");
        for (int ch = 0; ch < c; ch++) {
            for (int k = 0; k < plane; k++) {
                float lv = Math.min(20f, Math.max(-30f, logvars[k]));
                float z = params[ch * plane + k] + (float) Math.exp(0.5f * lv) * eps.data()[ch * plane + k];
                float want = (z - 0.0609f) * 1.5305f;
                assertEquals(want, out.data()[ch * plane + k], Math.abs(want) * 1e-6f + 1e-7f, "c" + ch + " k" + k);
            }
        }
        // logvar −100 behaves as −30 and +100 as +20.
        float eps0 = eps.data()[0];
        assertEquals((params[0] + (float) Math.exp(-15.0) * eps0 - 0.0609f) * 1.5305f, out.data()[0], 1e-6f);
        float eps5 = eps.data()[5];
        assertEquals((params[5] + (float) Math.exp(10.0) * eps5 - 0.0609f) * 1.5305f, out.data()[5],
                Math.abs(out.data()[5]) * 1e-6f);
    }

    @Test
    void strengthOneStartsFromPureNoise() {
        FloatTensor z0 = new TorchCpuGenerator(1).randn(new long[] {1, 4, 2, 2});
        FloatTensor noise = new TorchCpuGenerator(2).randn(new long[] {2, 4, 2, 2});
        FloatTensor start = ImageToImage.startLatents(z0, noise, 1f);
        assertArrayEquals(noise.data(), start.data());
        assertArrayEquals(noise.shape(), start.shape());
    }

    @Test
    void startLatentsMixNoiseAndImageRepeatedOverTheBatch() {
        FloatTensor z0 = new FloatTensor(new long[] {1, 1, 1, 2}, new float[] {1f, -1f});
        FloatTensor noise = new FloatTensor(new long[] {2, 1, 1, 2}, new float[] {0f, 0f, 2f, 4f});
        float sigma = 0.25f;
        FloatTensor start = ImageToImage.startLatents(z0, noise, sigma);
        assertArrayEquals(new float[] {0.75f, -0.75f, 0.5f + 0.75f, 1f - 0.75f}, start.data(), 1e-7f);
        assertArrayEquals(z0.data(), ImageToImage.startLatents(z0, noise.slice(0, 1), 0f).data());
    }
}
