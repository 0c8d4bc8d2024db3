package dev.sd3studio.app.hub;

import dev.sd3studio.app.cli.CliRun;
import dev.sd3studio.app.cli.Cli;
import dev.sd3studio.app.studio.Fixtures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pulling a Stability AI checkpoint repository from the loopback Hub: a repository laid out as
 * stabilityai/stable-diffusion-3.5-medium is (the single file, text_encoders/ with both T5s, and a
 * diffusers copy beside), holding the tiny SD3.5 checkpoint fixture under the real file names.
 */
class HubCheckpointPullTest {
    private static final String REPO = "stabilityai/stable-diffusion-3.5-medium";
    private static final Path TINY = Fixtures.root().resolve("checkpoints/tiny-sd35-comfy-fp16-t5fp8");
    private static final String SINGLE = "sd3.5_medium.safetensors";
    private static final String CLIP_L = "text_encoders/clip_l.safetensors";
    private static final String CLIP_G = "text_encoders/clip_g.safetensors";
    private static final String T5_FP8 = "text_encoders/t5xxl_fp8_e4m3fn.safetensors";
    private static final String T5_FP16 = "text_encoders/t5xxl_fp16.safetensors";

    @TempDir
    Path tmp;
    private HubTestServer hub;
    private Path repo;

    @BeforeEach
    void start() throws IOException {
        repo = tmp.resolve("repo");
        Files.createDirectories(repo.resolve("text_encoders"));
        Files.copy(TINY.resolve("tiny-sd35.safetensors"), repo.resolve(SINGLE));
        for (String f : List.of(CLIP_L, CLIP_G, T5_FP8)) {
            Files.copy(TINY.resolve(f), repo.resolve(f));
        }
        Files.writeString(repo.resolve(T5_FP16), "a stand-in for the fp16 T5 file");
        Files.writeString(repo.resolve("text_encoders/README.md"), "licences of the encoders");
        // the diffusers copy of the same weights, and the rest of the repository: none of it is fetched
        for (String f : List.of("transformer/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors",
                "text_encoder_3/model-00001-of-00002.safetensors", "vae/diffusion_pytorch_model.safetensors")) {
            Files.createDirectories(repo.resolve(f).getParent());
            Files.writeString(repo.resolve(f), "diffusers weights " + f);
        }
        Files.writeString(repo.resolve("transformer/config.json"), "{}");
        Files.writeString(repo.resolve("model_index.json"), "{}");
        Files.writeString(repo.resolve("LICENSE.md"), "licence");
        Files.writeString(repo.resolve("SD3.5M_example_workflow.json"), "{}");
        hub = new HubTestServer(Files.createDirectories(tmp.resolve("hub")));
        hub.addRepo(REPO, repo);
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    private static CliRun cli(String... args) {
        return CliRun.of(args);
    }

    private static Set<String> filesUnder(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return new TreeSet<>(walk.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString().replace('\\', '/')).toList());
        }
    }

    /** The repository paths the client asked the Hub to resolve. */
    private Set<String> resolved() {
        String prefix = "/" + REPO + "/resolve/main/";
        synchronized (hub.requests) {
            return new TreeSet<>(hub.requests.stream().map(HubTestServer.Request::path).filter(p -> p.startsWith(prefix))
                    .map(p -> p.substring(prefix.length())).toList());
        }
    }

    @Test
    void fp8IsTheDefaultAndFetchesExactlyTheSingleFileAndItsEncodersWhichTheEngineOpens() throws Exception {
        hub.drops.put(REPO + "/" + SINGLE, 1);
        Path dest = tmp.resolve("models/sd35m");
        CliRun pull = cli("pull", REPO, "--dest", dest.toString(), "--endpoint", hub.endpoint());
        assertEquals(0, pull.exit(), pull.err());

        Set<String> expected = new TreeSet<>(List.of(SINGLE, CLIP_L, CLIP_G, T5_FP8));
        assertEquals(expected, filesUnder(dest));
        assertEquals(expected, resolved());
        for (String f : expected) {
            assertArrayEquals(Files.readAllBytes(repo.resolve(f)), Files.readAllBytes(dest.resolve(f)), f);
        }
        // the single file broke off once and was resumed with a range request
        List<HubTestServer.Request> cdn = hub.requestsFor("/cdn/" + REPO + "/" + SINGLE);
        assertEquals(2, cdn.size(), cdn.toString());
        assertTrue(cdn.get(1).range() != null, cdn.toString());
        assertFalse(Files.exists(ModelDownloader.stagingFor(dest)));

        Path model = dest.resolve(SINGLE);
        assertTrue(pull.out().contains("model file (pass it to --model): " + model), pull.out());
        assertTrue(pull.out().contains("try: sd3studio generate --model " + model + " --prompt"), pull.out());
        assertTrue(pull.err().contains("4 files (Stability AI checkpoint layout)") && pull.err().contains("with the fp8 T5"), pull.err());

        // the engine finds text_encoders/ beside the file it was given (the tiny model's config comes from the fixture)
        CliRun check = cli("check-model", "--model", model.toString(), "--config", TINY.resolve("config").toString());
        assertEquals(0, check.exit(), check.out() + check.err());
        assertTrue(check.out().matches("(?s).*text_encoder_3\\s+found\\s+safetensors F8_E4M3 \\(t5xxl_fp8_e4m3fn.safetensors\\).*"),
                check.out());
        assertTrue(check.out().contains("result: usable"), check.out());
    }

    @Test
    void noneLeavesTheT5OnTheHubAndTheHintDropsIt() throws Exception {
        Path dest = tmp.resolve("none");
        CliRun pull = cli("pull", REPO, "--dest", dest.toString(), "--endpoint", hub.endpoint(), "--t5-variant", "none");
        assertEquals(0, pull.exit(), pull.err());
        assertEquals(new TreeSet<>(List.of(SINGLE, CLIP_L, CLIP_G)), filesUnder(dest));
        assertEquals(new TreeSet<>(List.of(SINGLE, CLIP_L, CLIP_G)), resolved());
        assertTrue(pull.out().contains("--model " + dest.resolve(SINGLE) + " --no-t5"), pull.out());
        assertTrue(pull.err().contains("without T5"), pull.err());
    }

    @Test
    void fp16FetchesTheFp16T5AndAWrongHashIsRefused() throws Exception {
        Path dest = tmp.resolve("fp16");
        CliRun pull = cli("pull", REPO, "--dest", dest.toString(), "--endpoint", hub.endpoint(), "--t5-variant", "FP16");
        assertEquals(0, pull.exit(), pull.err());
        assertEquals(new TreeSet<>(List.of(SINGLE, CLIP_L, CLIP_G, T5_FP16)), filesUnder(dest));

        hub.wrongHash.add(REPO + "/" + CLIP_G);
        Path bad = tmp.resolve("bad");
        CliRun refused = cli("pull", REPO, "--dest", bad.toString(), "--endpoint", hub.endpoint());
        assertEquals(1, refused.exit());
        assertTrue(refused.err().contains(CLIP_G) && refused.err().contains("SHA-256"), refused.err());
        assertFalse(Files.exists(bad));
    }

    @Test
    void aGatedCheckpointWithoutATokenSaysWhatToDoAndTheTokenStaysOnTheHub() throws Exception {
        hub.gated.put(REPO, "hf_secret");
        CliRun pull = cli("pull", REPO, "--dest", tmp.resolve("gated").toString(), "--endpoint", hub.endpoint());
        assertEquals(1, pull.exit());
        String err = pull.err();
        assertTrue(err.contains("is gated or private (HTTP 401)") && err.contains("accept its licence")
                && err.contains("https://huggingface.co/" + REPO) && err.contains("HF_TOKEN"), err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), err);
        assertEquals(1, err.strip().lines().filter(l -> l.startsWith("error:")).count(), err);
        assertFalse(Files.exists(tmp.resolve("gated")));

        // with the token: the checkpoint's files, the token sent to the Hub and never to the storage host
        HubClient client = new HubClient(new HubSettings(hub.uri(), Optional.of("hf_secret"), "test"));
        ModelDownloader d = new ModelDownloader(client, 3, Duration.ofMillis(20), Duration.ofSeconds(10));
        CheckpointRepo files = ModelCatalogue.find(RepoRef.parse(REPO)).flatMap(ModelCatalogue.Entry::checkpoint).orElseThrow();
        Path dest = tmp.resolve("gated-ok");
        ModelDownloader.Plan plan = d.plan(RepoRef.parse(REPO), dest, ModelFiles.checkpoint(files, T5Variant.FP8));
        assertEquals(dest.resolve(SINGLE), plan.modelPath());
        d.download(plan, new DownloadControl(), p -> { });
        assertTrue(Files.isRegularFile(dest.resolve(T5_FP8)));
        assertTrue(hub.requestsFor("/resolve/main/" + SINGLE).stream().allMatch(r -> "Bearer hf_secret".equals(r.authorization())));
        List<HubTestServer.Request> cdn = hub.requestsFor("/cdn/" + REPO + "/" + SINGLE);
        assertFalse(cdn.isEmpty());
        assertTrue(cdn.stream().allMatch(r -> r.authorization() == null), cdn.toString());
    }

    @Test
    void aT5ChoiceThatDoesNotFitIsAUsageError() {
        CliRun bogus = cli("pull", REPO, "--dest", tmp.resolve("x").toString(), "--endpoint", hub.endpoint(), "--t5-variant", "fp4");
        assertEquals(2, bogus.exit(), bogus.err());
        assertTrue(bogus.err().contains("use fp16, fp8 or none"), bogus.err());

        CliRun both = cli("pull", REPO, "--dest", tmp.resolve("y").toString(), "--endpoint", hub.endpoint(),
                "--no-t5", "--t5-variant", "fp16");
        assertEquals(2, both.exit(), both.err());

        CliRun onnx = cli("pull", "test-org/tiny-sd3-onnx", "--dest", tmp.resolve("z").toString(), "--endpoint", hub.endpoint(),
                "--t5-variant", "fp8");
        assertEquals(2, onnx.exit(), onnx.err());
        assertTrue(onnx.err().contains("--no-t5"), onnx.err());
        assertTrue(hub.requests.isEmpty(), "nothing is asked of the Hub for a usage error");
    }

    @Test
    void aRevisionWithoutTheChosenFilesIsRefusedBeforeAnyDownload() throws Exception {
        Files.delete(tmp.resolve("hub").resolve(REPO).resolve(T5_FP8));
        CliRun pull = cli("pull", REPO, "--dest", tmp.resolve("x").toString(), "--endpoint", hub.endpoint());
        assertEquals(1, pull.exit());
        assertTrue(pull.err().contains("does not list " + T5_FP8) && pull.err().contains("Nothing was downloaded"), pull.err());
        assertTrue(resolved().isEmpty(), resolved().toString());
    }

    @Test
    void sd3MediumTakesTheAllInOneFileForFp8AndTheBareFileWithEncodersOtherwise() throws Exception {
        CheckpointRepo sd3 = ModelCatalogue.find(RepoRef.parse("stabilityai/stable-diffusion-3-medium"))
                .flatMap(ModelCatalogue.Entry::checkpoint).orElseThrow();
        List<HubFile> listing = Stream.of("sd3_medium.safetensors", "sd3_medium_incl_clips.safetensors",
                        "sd3_medium_incl_clips_t5xxlfp8.safetensors", CLIP_L, CLIP_G, T5_FP8, T5_FP16, "LICENSE.md")
                .map(p -> new HubFile(p, 10, p.endsWith(".safetensors"), "ab".repeat(32), "cd".repeat(20))).toList();
        RepoRef ref = RepoRef.parse("stabilityai/stable-diffusion-3-medium");
        ModelFiles fp8 = sd3.select(ref, listing, T5Variant.FP8);
        assertEquals(List.of("sd3_medium_incl_clips_t5xxlfp8.safetensors"), fp8.files().stream().map(HubFile::path).toList());
        assertEquals(Optional.of("sd3_medium_incl_clips_t5xxlfp8.safetensors"), fp8.modelFile());
        ModelFiles fp16 = sd3.select(ref, listing, T5Variant.FP16);
        assertEquals(List.of("sd3_medium.safetensors", CLIP_L, CLIP_G, T5_FP16), fp16.files().stream().map(HubFile::path).toList());
        ModelFiles none = sd3.select(ref, listing, T5Variant.NONE);
        assertEquals(List.of("sd3_medium.safetensors", CLIP_L, CLIP_G), none.files().stream().map(HubFile::path).toList());

        // a large file listed without its SHA-256 is refused, as for an ONNX export
        List<HubFile> noHash = listing.stream().map(f -> new HubFile(f.path(), f.size(), f.isLfs(), null, f.gitOid())).toList();
        HubException e = assertThrows(HubException.class, () -> sd3.select(ref, noHash, T5Variant.FP8));
        assertEquals(HubException.Kind.NO_HASH, e.kind());
    }

    @Test
    void theCatalogueListsTheFourCheckpointRepositoriesAsGatedWithTheirSizes() {
        List<ModelCatalogue.Entry> checkpoints = ModelCatalogue.ENTRIES.stream().filter(ModelCatalogue.Entry::isCheckpoint).toList();
        assertEquals(List.of("stabilityai/stable-diffusion-3.5-medium", "stabilityai/stable-diffusion-3.5-large",
                "stabilityai/stable-diffusion-3.5-large-turbo", "stabilityai/stable-diffusion-3-medium"),
                checkpoints.stream().map(ModelCatalogue.Entry::repo).toList());
        for (ModelCatalogue.Entry e : checkpoints) {
            assertTrue(e.gated() && e.kind().equals("checkpoint (gated)"), e.toString());
            CheckpointRepo c = e.checkpoint().orElseThrow();
            assertTrue(c.approxBytes(T5Variant.NONE) < c.approxBytes(T5Variant.FP8)
                    && c.approxBytes(T5Variant.FP8) < c.approxBytes(T5Variant.FP16), e.repo());
            assertTrue(e.description().contains("with the fp8 T5") && e.description().contains("without T5"), e.description());
        }
        assertEquals("sd3.5_large_turbo.safetensors", checkpoints.get(2).checkpoint().orElseThrow().modelFile(T5Variant.FP8));

        CliRun list = cli("pull");
        assertEquals(0, list.exit());
        assertTrue(list.out().contains("stabilityai/stable-diffusion-3.5-large   [checkpoint (gated)]")
                && list.out().contains("TensorStack/stable-diffusion-3.5-medium-onnx   [ONNX export]")
                && list.out().contains("accept the licence"), list.out());
    }
}
