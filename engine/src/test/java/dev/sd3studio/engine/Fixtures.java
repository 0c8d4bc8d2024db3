package dev.sd3studio.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.image.ImageLoader;
import dev.sd3studio.engine.api.Npy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The conformance fixtures committed in the repository's {@code fixtures/} folder, or {@code -Dsd3.fixtures=DIR}.
 * Their absence fails the tests: a conformance suite that skips proves nothing.
 */
public final class Fixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {
    }

    public static Path root() {
        // Maven passes the property; "../fixtures" is the same folder seen from a module (IDE runs).
        Path dir = Path.of(System.getProperty("sd3.fixtures", "../fixtures")).toAbsolutePath().normalize();
        assertTrue(Files.isDirectory(dir.resolve("goldens")), "fixtures not found at " + dir
                + "; they live in the repository's fixtures/ folder (or pass -Dsd3.fixtures=DIR)");
        return dir;
    }

    public static Path model(String name) {
        return root().resolve("models").resolve(name);
    }

    public static Path goldens() {
        return root().resolve("goldens");
    }

    /** The inpainting goldens (fixtures README §6). */
    public static Path goldensInpaint() {
        return root().resolve("goldens-inpaint");
    }

    /** The skip-layer guidance goldens (fixtures README §9). */
    public static Path goldensSlg() {
        return root().resolve("goldens-slg");
    }

    /** Every skip-layer guidance golden case folder, sorted by name. */
    public static List<Path> slgCases() throws IOException {
        return casesIn(goldensSlg());
    }

    /** Every golden case folder, sorted by name. */
    public static List<Path> cases() throws IOException {
        return casesIn(goldens());
    }

    /** Every inpainting golden case folder, sorted by name. */
    public static List<Path> inpaintCases() throws IOException {
        return casesIn(goldensInpaint());
    }

    private static List<Path> casesIn(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(d -> Files.isRegularFile(d.resolve("case.json"))).sorted().toList();
        }
    }

    public static JsonNode caseJson(Path dir) throws IOException {
        return JSON.readTree(dir.resolve("case.json").toFile());
    }

    public static FloatTensor tensor(Path dir, String name) throws IOException {
        return Npy.readFloat(dir.resolve(name + ".npy"));
    }

    /** The request that reproduces a case; {@code withRecordedNoise} passes the case's noise instead of the seed. */
    public static GenerationRequest request(Path dir, boolean withRecordedNoise) throws IOException, EngineException {
        JsonNode c = caseJson(dir);
        boolean img2img = c.path("strength").isNumber();
        GenerationRequest.Builder b = GenerationRequest.builder()
                .setPrompts(strings(c.path("prompt")))
                .optPrompts2(strings(c.path("prompt_2")))
                .optPrompts3(strings(c.path("prompt_3")))
                .optNegatives(strings(c.path("negative_prompt")))
                .optNegatives2(strings(c.path("negative_prompt_2")))
                .optNegatives3(strings(c.path("negative_prompt_3")))
                .optSize(c.path("width").asInt(), c.path("height").asInt())
                .optSteps(c.path("num_inference_steps").asInt())
                .optGuidance(c.path("guidance_scale").asDouble())
                .optMaxSequenceLength(c.path("max_sequence_length").asInt())
                .optClipSkip(c.path("clip_skip").isNumber() ? c.path("clip_skip").asInt() : null)
                .optDropT5(c.path("drop_t5").asBoolean(false))
                .optImagesPerPrompt(c.path("num_images_per_prompt").asInt(1))
                .optPreviewEvery(0);
        if (img2img) {
            b.optInitImage(ImageLoader.load(dir.resolve(c.path("init_image").asText())))
                    .optStrength(c.path("strength").asDouble());
        }
        if (c.path("mask_image").isTextual()) {
            b.optMask(ImageLoader.load(dir.resolve(c.path("mask_image").asText())));
        }
        if (c.path("skip_guidance_layers").isArray()) {
            List<Integer> layers = new ArrayList<>();
            c.path("skip_guidance_layers").forEach(v -> layers.add(v.asInt()));
            b.optSkipLayers(layers)
                    .optSkipLayerScale(c.path("skip_layer_guidance_scale").asDouble())
                    .optSkipLayerStart(c.path("skip_layer_guidance_start").asDouble())
                    .optSkipLayerStop(c.path("skip_layer_guidance_stop").asDouble());
        }
        if (withRecordedNoise) {
            b.optInitialLatents(tensor(dir, img2img ? "noise" : "noise_latents"));
            if (img2img) {
                b.optEncoderNoise(tensor(dir, "vae_sample_noise"));
            }
        } else {
            b.optSeed(c.path("seed").asLong());
        }
        return b.build();
    }

    private static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n.isTextual()) {
            out.add(n.asText());
        } else if (n.isArray()) {
            n.forEach(v -> out.add(v.asText()));
        }
        return out;
    }

    public static String modelOf(Path dir) throws IOException {
        return caseJson(dir).path("model").asText();
    }
}
