package dev.sd3studio.app.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sd3studio.app.gallery.PngFiles;
import dev.sd3studio.app.gallery.PngMetadata;
import dev.sd3studio.app.studio.Fixtures;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command-line contract, run in-process: outputs, metadata, and one-line errors. */
class CliTest {
    private static final Path FIXTURES = Fixtures.root();
    private static final Path MODEL = FIXTURES.resolve("models/tiny-sd3");

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void generateReproducesAGoldenCaseWithMetadata(@TempDir Path tmp) throws Exception {
        assertTrue(Files.isDirectory(MODEL), "fixtures missing at " + FIXTURES.toAbsolutePath());
        Path golden = FIXTURES.resolve("goldens/sd3_cfg7_default");
        Path png = tmp.resolve("cat.png");
        Path npy = tmp.resolve("cat.npy");
        CliRun r = run("generate", "--model", MODEL.toString(), "--prompt", "a photo of a cat sitting on a red sofa",
                "--width", "64", "--height", "64", "--steps", "4", "--guidance", "7",
                "--seed", "0", "--out", png.toString(), "--out-npy", npy.toString(), "--dump", tmp.resolve("dump").toString());
        assertEquals(0, r.exit(), r.err());
        FloatTensor image = Npy.readFloat(npy);
        assertTrue(image.maxAbsDifference(Npy.readFloat(golden.resolve("image.npy"))) < 1e-4f);
        Map<String, String> text = PngFiles.readText(png);
        Map<String, String> ours = PngMetadata.decode(text.get(PngMetadata.OURS));
        assertEquals("a photo of a cat sitting on a red sofa", ours.get("prompt"));
        assertEquals("0", ours.get("seed"));
        assertEquals("4", ours.get("steps"));
        assertTrue(text.get(PngMetadata.PARAMETERS).contains("Steps: 4, Sampler: Euler (flow matching), CFG scale: 7.0, Seed: 0"),
                text.get(PngMetadata.PARAMETERS));
        assertTrue(Files.exists(tmp.resolve("dump/prompt_embeds.npy")));
        assertTrue(Files.exists(tmp.resolve("dump/latents_step4.npy")));
    }

    /** Without --guidance the model's recommended scale applies (as in the studio); --guidance still wins. */
    @Test
    void theModelsRecommendedGuidanceIsTheDefault(@TempDir Path tmp) throws Exception {
        Path model = Files.createDirectories(tmp.resolve("model"));
        try (var parts = Files.list(MODEL)) {
            for (Path p : parts.toList()) {
                Files.createSymbolicLink(model.resolve(p.getFileName()), p.toAbsolutePath());
            }
        }
        Files.writeString(model.resolve("sd3studio.json"), "{\"guidance\": 3.5}");
        for (String[] c : new String[][] {{"3.5"}, {"5.0", "--guidance", "5"}}) {
            Path png = tmp.resolve("g" + c[0] + ".png");
            List<String> args = new java.util.ArrayList<>(List.of("generate", "--model", model.toString(), "--prompt", "a",
                    "--steps", "1", "--seed", "5", "--out", png.toString()));
            args.addAll(List.of(c).subList(1, c.length));
            CliRun r = run(args.toArray(String[]::new));
            assertEquals(0, r.exit(), r.err());
            assertEquals(c[0], PngMetadata.decode(PngFiles.readText(png).get(PngMetadata.OURS)).get("guidance"), args.toString());
        }
        Path plain = tmp.resolve("plain.png");
        assertEquals(0, run("generate", "--model", MODEL.toString(), "--prompt", "a", "--steps", "1", "--seed", "5",
                "--out", plain.toString()).exit());
        assertEquals("7.0", PngMetadata.decode(PngFiles.readText(plain).get(PngMetadata.OURS)).get("guidance"));
    }

    @Test
    void severalImagesAreNumbered(@TempDir Path tmp) {
        CliRun r = run("generate", "--model", MODEL.toString(), "--prompt", "a", "--prompt", "b", "--steps", "1",
                "--guidance", "1", "--seed", "5", "--out", tmp.resolve("x.png").toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.exists(tmp.resolve("x-0.png")) && Files.exists(tmp.resolve("x-1.png")));
        assertFalse(Files.exists(tmp.resolve("x.png")));
    }

    @Test
    void errorsAreOneLineAndWriteNothing(@TempDir Path tmp) {
        Path out = tmp.resolve("o.png");
        String[][] cases = {
                {"--model", tmp.resolve("nope").toString()},
                {"--model", MODEL.toString(), "--width", "1000"},
                {"--model", MODEL.toString(), "--steps", "0"},
                {"--model", MODEL.toString(), "--device", "tpu"},
                {"--model", MODEL.toString(), "--init-image", tmp.resolve("missing.png").toString()},
        };
        for (String[] extra : cases) {
            String[] args = new String[extra.length + 6];
            args[0] = "generate";
            args[1] = "--prompt";
            args[2] = "a cat";
            System.arraycopy(extra, 0, args, 3, extra.length);
            args[extra.length + 3] = "--out";
            args[extra.length + 4] = out.toString();
            args[extra.length + 5] = "--guidance=1";
            CliRun r = run(args);
            assertNotEquals(0, r.exit(), String.join(" ", extra));
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
            assertTrue(r.err().startsWith("error: "), r.err());
            assertFalse(r.err().contains("Exception"), r.err());
            assertFalse(Files.exists(out), "no output for " + String.join(" ", extra));
        }
    }

    @Test
    void missingOutputFolderIsRefusedBeforeWork(@TempDir Path tmp) {
        CliRun r = run("generate", "--model", MODEL.toString(), "--prompt", "a", "--out", tmp.resolve("no/dir/x.png").toString());
        assertEquals(Cli.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("does not exist"), r.err());
    }

    @Test
    void tokenizePrintsTheThreeTokenizers() throws Exception {
        CliRun r = run("tokenize", "--model", MODEL.toString(), "--prompt", "wow!!!", "--max-sequence-length", "77");
        assertEquals(0, r.exit(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertEquals(77, json.path("tokenizer").path("input_ids").size());
        assertEquals(0, json.path("tokenizer_2").path("input_ids").get(2).asInt(), "'!' is id 0 for CLIP-G");
        assertEquals(77, json.path("tokenizer_3").path("attention_mask").size());
        assertTrue(json.path("tokenizer").path("untruncated_length").asInt() > 2);
    }

    @Test
    void checkModelListsEachComponent(@TempDir Path tmp) throws Exception {
        CliRun ok = run("check-model", "--model", MODEL.toString());
        assertEquals(0, ok.exit(), ok.err());
        assertTrue(ok.out().contains("transformer") && ok.out().contains("found") && ok.out().contains("result: usable"));
        Files.createDirectories(tmp.resolve("text_encoder"));
        CliRun broken = run("check-model", "--model", tmp.toString());
        assertEquals(Cli.EXIT_FAILED, broken.exit());
        assertTrue(broken.out().contains("missing"));
        assertTrue(broken.err().contains("transformer"), broken.err());
    }

    @Test
    void latentsFileIsReadAsTheNoise(@TempDir Path tmp) throws Exception {
        Path golden = FIXTURES.resolve("goldens/sd3_no_cfg");
        JsonNode c = new ObjectMapper().readTree(golden.resolve("case.json").toFile());
        CliRun r = run("generate", "--model", MODEL.toString(), "--prompt", c.path("prompt").asText(),
                "--width", "64", "--height", "64", "--steps", "3", "--guidance", "1",
                "--latents", golden.resolve("noise_latents.npy").toString(),
                "--out", tmp.resolve("a.png").toString(), "--out-npy", tmp.resolve("a.npy").toString());
        assertEquals(0, r.exit(), r.err());
        FloatTensor got = Npy.readFloat(tmp.resolve("a.npy"));
        FloatTensor ref = Npy.readFloat(golden.resolve("image.npy"));
        assertArrayEquals(ref.shape(), got.shape());
        assertTrue(got.maxAbsDifference(ref) < 1e-4f);
    }
}
