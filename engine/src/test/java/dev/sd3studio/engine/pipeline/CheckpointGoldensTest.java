package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.CheckpointFiles;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.GenerationResult;
import dev.sd3studio.engine.api.MemoryMode;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.graph.CheckpointModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoints opened directly, through the whole pipeline: the four checkpoint goldens (single file fp32,
 * separate encoders fp16, fp16 with a float8 T5, a bf16 diffusers folder) against diffusers loading the
 * same files, and every tiny-sd3 golden of the ONNX path (text-to-image, image-to-image, inpainting,
 * skip-layer guidance) from the same weights as a diffusers folder.
 */
class CheckpointGoldensTest {
    /** The bar for the checkpoint goldens, as the conformance check applies it. */
    private static final float CHECKPOINT_TOL = 1e-3f;
    /** The ONNX path's own bar: the float32 diffusers folder holds the ONNX fixtures' weights bit for bit. */
    private static final float SAME_WEIGHTS_TOL = 1e-4f;
    private static final Map<Path, Sd3Pipeline> OPEN = new HashMap<>();

    static EngineOptions options() {
        return EngineOptions.defaults().withCheckpoint(CheckpointFiles.NONE.withTokenizers(Fixtures.root().resolve("tokenizers")));
    }

    static synchronized Sd3Pipeline pipeline(Path model) {
        return OPEN.computeIfAbsent(model, m -> {
            try {
                return Sd3Pipeline.open(m, options());
            } catch (Exception e) {
                throw new AssertionError("cannot open " + m + ": " + e.getMessage(), e);
            }
        });
    }

    @AfterAll
    static void closeAll() {
        OPEN.values().forEach(Sd3Pipeline::close);
        OPEN.clear();
    }

    static List<Path> checkpointCases() throws IOException {
        try (Stream<Path> s = Files.list(Fixtures.root().resolve("goldens-checkpoints"))) {
            return s.filter(Files::isDirectory).sorted().toList();
        }
    }

    /** The text-to-image, image-to-image, inpainting and skip-layer goldens of tiny-sd3. */
    static List<Path> tinySd3AllCases() throws IOException {
        List<Path> out = new java.util.ArrayList<>();
        for (Path dir : Stream.of(Fixtures.cases(), Fixtures.inpaintCases(), Fixtures.slgCases()).flatMap(List::stream).toList()) {
            if (Fixtures.modelOf(dir).equals("tiny-sd3")) {
                out.add(dir);
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("checkpointCases")
    void checkpointMatchesDiffusersLoadingTheSameFiles(Path dir) throws Exception {
        Path model = Fixtures.root().resolve(Fixtures.caseJson(dir).path("model_path").asText());
        assertTrue(CheckpointModel.isCheckpoint(model), model + " is routed to the checkpoint path");
        GenerationResult result = pipeline(model).generate(Fixtures.request(dir, true), ProgressListener.NONE,
                CancelToken.none());
        float err = Fixtures.tensor(dir, "image").maxAbsDifference(result.images());
        System.out.printf("checkpoint golden %-26s image max abs error %.2e%n", dir.getFileName(), err);
        assertTrue(err <= CHECKPOINT_TOL, dir.getFileName() + ": image differs by " + err);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tinySd3AllCases")
    void theOnnxGoldensPassFromTheSameWeightsAsACheckpoint(Path dir) throws Exception {
        Path model = Fixtures.root().resolve("checkpoints/tiny-sd3-diffusers-fp32");
        GenerationResult result = pipeline(model).generate(Fixtures.request(dir, true), ProgressListener.NONE,
                CancelToken.none());
        // inpainting decodes with the VAE shift factor where the reference forgets it (InpaintGoldenCasesTest)
        String expected = Files.exists(dir.resolve("image_decoded_with_shift.npy")) ? "image_decoded_with_shift" : "image";
        float err = Fixtures.tensor(dir, expected).maxAbsDifference(result.images());
        System.out.printf("tiny-sd3 golden as checkpoint %-30s image max abs error %.2e%n", dir.getFileName(), err);
        assertTrue(err <= SAME_WEIGHTS_TOL, dir.getFileName() + ": image differs by " + err);
    }

    @Test
    void offloadGivesTheSameImageAndReleasesEveryBuiltSession() throws Exception {
        Path dir = checkpointCases().getFirst();
        Path model = Fixtures.root().resolve(Fixtures.caseJson(dir).path("model_path").asText());
        try (Sd3Pipeline offload = Sd3Pipeline.open(model, options().withMemoryMode(MemoryMode.OFFLOAD))) {
            FloatTensor image = offload.generate(Fixtures.request(dir, true), ProgressListener.NONE,
                    CancelToken.none()).images();
            assertTrue(offload.openSessions().isEmpty() || offload.openSessions().equals(java.util.Set.of((Object) null)),
                    "offload closes every component after its stage: " + offload.openSessions());
            float err = Fixtures.tensor(dir, "image").maxAbsDifference(image);
            assertTrue(err <= CHECKPOINT_TOL, "offload image differs by " + err);
        }
    }

    @Test
    void everyCheckpointCaseIsCovered() throws IOException {
        assertEquals(4, checkpointCases().size(), "the fixtures list 4 checkpoint cases; a missing one means a broken checkout");
    }
}
