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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pulls the fixture model from a real HTTP server on the loopback interface, through our real client. */
class HubDownloadTest {
    private static final String REPO = "test-org/tiny-sd3-onnx";
    private static final String TRANSFORMER = "transformer/model.onnx";

    @TempDir
    Path tmp;
    private HubTestServer hub;

    @BeforeEach
    void start() throws IOException {
        hub = new HubTestServer(Files.createDirectories(tmp.resolve("hub")));
        hub.addRepo(REPO, Fixtures.tinySd3());
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    private static CliRun cli(String... args) {
        return CliRun.of(args);
    }

    private HubClient client(String token) {
        return new HubClient(new HubSettings(hub.uri(), Optional.ofNullable(token), "test"));
    }

    private ModelDownloader downloader(HubClient client, int attempts) {
        return new ModelDownloader(client, attempts, Duration.ofMillis(20), Duration.ofSeconds(10));
    }

    @Test
    void pullGivesAFolderThatGeneratesAndSurvivesADroppedConnection() throws Exception {
        hub.drops.put(REPO + "/" + TRANSFORMER, 1);
        Path dest = tmp.resolve("models/tiny");
        CliRun pull = cli("pull", REPO, "--dest", dest.toString(), "--endpoint", hub.endpoint());
        assertEquals(0, pull.exit(), pull.err());
        assertTrue(pull.err().contains("connection lost, retrying"), pull.err());

        // every file the fixture has, byte for byte; nothing of the staging folder left
        try (Stream<Path> files = Files.walk(Fixtures.tinySd3())) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path got = dest.resolve(Fixtures.tinySd3().relativize(f).toString());
                assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(got), got.toString());
            }
        }
        assertFalse(Files.exists(ModelDownloader.stagingFor(dest)));
        // the listing came in pages, the transformer resumed from where the connection broke
        assertTrue(hub.requestsFor("/tree/main").size() > 3, "pages: " + hub.requestsFor("/tree/main").size());
        List<HubTestServer.Request> cdn = hub.requestsFor("/cdn/" + REPO + "/" + TRANSFORMER);
        assertEquals(2, cdn.size(), cdn.toString());
        long size = Files.size(Fixtures.tinySd3().resolve(TRANSFORMER));
        // resumed from what arrived before the drop (at most the half the server sent; loopback may lose the tail)
        assertTrue(cdn.get(1).range() != null && cdn.get(1).range().matches("bytes=\\d+-"), cdn.toString());
        long resumedAt = Long.parseLong(cdn.get(1).range().replaceAll("\\D", ""));
        assertTrue(resumedAt > 0 && resumedAt <= size / 2, cdn.toString());

        Path png = tmp.resolve("out.png");
        CliRun gen = cli("generate", "--model", dest.toString(), "--prompt", "a red cube", "--steps", "2",
                "--width", "64", "--height", "64", "--seed", "1", "--out", png.toString());
        assertEquals(0, gen.exit(), gen.err());
        assertTrue(Files.size(png) > 100);
    }

    @Test
    void noT5LeavesTheT5EncoderOnTheHub() throws Exception {
        Path dest = tmp.resolve("no-t5");
        CliRun pull = cli("pull", REPO, "--dest", dest.toString(), "--endpoint", hub.endpoint(), "--no-t5");
        assertEquals(0, pull.exit(), pull.err());
        assertFalse(Files.exists(dest.resolve("text_encoder_3")));
        assertTrue(hub.requestsFor("text_encoder_3/model.onnx").isEmpty());
        CliRun check = cli("check-model", "--model", dest.toString());
        assertEquals(0, check.exit(), check.out() + check.err());
    }

    @Test
    void aWrongHashIsRefusedAndNoModelAppears() {
        hub.wrongHash.add(REPO + "/vae_decoder/model.onnx");
        Path dest = tmp.resolve("bad");
        CliRun pull = cli("pull", REPO, "--dest", dest.toString(), "--endpoint", hub.endpoint());
        assertEquals(1, pull.exit());
        assertTrue(pull.err().contains("vae_decoder/model.onnx") && pull.err().contains("SHA-256"), pull.err());
        assertEquals(1, pull.err().strip().lines().filter(l -> l.startsWith("error:")).count());
        assertFalse(Files.exists(dest));
        Path staging = ModelDownloader.stagingFor(dest);
        assertFalse(Files.exists(staging.resolve("vae_decoder/model.onnx")));
        assertFalse(Files.exists(staging.resolve("vae_decoder/model.onnx.part")));
    }

    @Test
    void aRestartResumesThePartialFileAndOnlyThenTheModelAppears() throws Exception {
        hub.drops.put(REPO + "/" + TRANSFORMER, 1);
        Path dest = tmp.resolve("resumed");
        HubClient client = client(null);
        ModelDownloader first = downloader(client, 1);
        ModelDownloader.Plan plan = first.plan(RepoRef.parse(REPO), dest, false);
        HubException e = assertThrows(HubException.class, () -> first.download(plan, new DownloadControl(), p -> { }));
        assertEquals(HubException.Kind.NETWORK, e.kind());
        assertTrue(e.getMessage().contains("run the same pull again to resume"), e.getMessage());
        assertFalse(Files.exists(dest), "an interrupted download must not look like a model");
        Path part = ModelDownloader.stagingFor(dest).resolve(TRANSFORMER + ".part");
        long half = Files.size(part);
        assertTrue(half > 0);

        ModelDownloader second = downloader(client, 3);
        ModelDownloader.Plan again = second.plan(RepoRef.parse(REPO), dest, false);
        assertTrue(again.bytesStaged() >= half, "staged " + again.bytesStaged());
        second.download(again, new DownloadControl(), p -> { });
        List<HubTestServer.Request> cdn = hub.requestsFor("/cdn/" + REPO + "/" + TRANSFORMER);
        assertEquals("bytes=" + half + "-", cdn.getLast().range());
        assertArrayEquals(Files.readAllBytes(Fixtures.tinySd3().resolve(TRANSFORMER)), Files.readAllBytes(dest.resolve(TRANSFORMER)));
    }

    @Test
    void pauseHoldsNoConnectionAndResumeFinishes() throws Exception {
        hub.slow.add(REPO + "/text_encoder_3/model.onnx");
        Path dest = tmp.resolve("paused");
        ModelDownloader d = downloader(client(null), 3);
        ModelDownloader.Plan plan = d.plan(RepoRef.parse(REPO), dest, false);
        DownloadControl control = new DownloadControl();
        List<DownloadProgress> seen = new CopyOnWriteArrayList<>();
        CompletableFuture<Path> run = CompletableFuture.supplyAsync(() -> {
            try {
                return d.download(plan, control, seen::add);
            } catch (HubException e) {
                throw new IllegalStateException(e);
            }
        });
        // pause once part of the slow file has arrived (the server takes seconds to send it)
        Path part = ModelDownloader.stagingFor(dest).resolve("text_encoder_3/model.onnx.part");
        long started = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(Files.exists(part) && Files.size(part) > 0) && System.nanoTime() < started) {
            Thread.sleep(5);
        }
        control.pause();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (seen.stream().noneMatch(p -> p.state() == DownloadProgress.State.PAUSED) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(seen.stream().anyMatch(p -> p.state() == DownloadProgress.State.PAUSED), "never paused");
        int requestsWhilePaused = hub.requests.size();
        Thread.sleep(300);
        assertEquals(requestsWhilePaused, hub.requests.size(), "a paused download makes no requests");
        assertFalse(run.isDone());
        control.resume();
        assertEquals(dest, run.get(60, TimeUnit.SECONDS));
        List<HubTestServer.Request> t5 = hub.requestsFor("/cdn/" + REPO + "/text_encoder_3/model.onnx");
        assertTrue(t5.size() >= 2 && t5.getLast().range() != null, t5.toString());
        assertArrayEquals(Files.readAllBytes(Fixtures.tinySd3().resolve("text_encoder_3/model.onnx")),
                Files.readAllBytes(dest.resolve("text_encoder_3/model.onnx")));
        DownloadProgress last = seen.getLast();
        assertEquals(DownloadProgress.State.DONE, last.state());
        assertEquals(last.total(), last.done());
    }

    @Test
    void cancelDeletesWhatWasFetched() throws Exception {
        hub.slow.add(REPO + "/text_encoder_3/model.onnx");
        Path dest = tmp.resolve("cancelled");
        ModelDownloader d = downloader(client(null), 3);
        ModelDownloader.Plan plan = d.plan(RepoRef.parse(REPO), dest, false);
        DownloadControl control = new DownloadControl();
        HubException e = assertThrows(HubException.class, () -> d.download(plan, control, p -> {
            if (p.file().startsWith("text_encoder_3/")) {
                control.cancel();
            }
        }));
        assertEquals(HubException.Kind.CANCELLED, e.kind());
        assertFalse(Files.exists(dest));
        assertFalse(Files.exists(ModelDownloader.stagingFor(dest)));
    }

    @Test
    void aGatedRepositoryExplainsLicenceAndTokenAndTheTokenStaysOnTheHub() throws Exception {
        hub.gated.put(REPO, "hf_secret");
        CliRun pull = cli("pull", REPO, "--dest", tmp.resolve("gated").toString(), "--endpoint", hub.endpoint());
        assertEquals(1, pull.exit());
        assertTrue(pull.err().contains("accept its licence") && pull.err().contains("HF_TOKEN"), pull.err());

        HubException wrong = assertThrows(HubException.class, () -> client("hf_wrong").listFiles(RepoRef.parse(REPO)));
        assertTrue(wrong.getMessage().contains("refused your token"), wrong.getMessage());

        Path dest = tmp.resolve("gated-ok");
        ModelDownloader d = downloader(client("hf_secret"), 3);
        d.download(d.plan(RepoRef.parse(REPO), dest, true), new DownloadControl(), p -> { });
        assertTrue(Files.isRegularFile(dest.resolve(TRANSFORMER)));
        // the Hub got the token; the storage host the LFS files are redirected to did not
        assertTrue(hub.requestsFor("/resolve/main/" + TRANSFORMER).stream().allMatch(r -> "Bearer hf_secret".equals(r.authorization())));
        List<HubTestServer.Request> cdn = hub.requestsFor("/cdn/" + REPO + "/" + TRANSFORMER);
        assertFalse(cdn.isEmpty());
        assertTrue(cdn.stream().allMatch(r -> r.authorization() == null && r.host().startsWith("localhost")), cdn.toString());
    }

    @Test
    void aRepositoryWithoutAnOnnxExportIsRefusedBeforeAnyDownload() throws Exception {
        Path plain = Files.createDirectories(tmp.resolve("plain/transformer"));
        Files.writeString(plain.resolve("diffusion_pytorch_model.safetensors"), "weights");
        Files.writeString(tmp.resolve("plain/model_index.json"), "{}");
        hub.addRepo("someone/sd3-pytorch", tmp.resolve("plain"));
        CliRun pull = cli("pull", "someone/sd3-pytorch", "--dest", tmp.resolve("x").toString(), "--endpoint", hub.endpoint());
        assertEquals(1, pull.exit());
        assertTrue(pull.err().contains("not an SD3 ONNX export") && pull.err().contains("Nothing was downloaded"), pull.err());
        assertTrue(hub.requests.stream().noneMatch(r -> r.path().contains("/resolve/")));

        CliRun missing = cli("pull", "nobody/nothing", "--dest", tmp.resolve("y").toString(), "--endpoint", hub.endpoint());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("was not found"), missing.err());
    }

    @Test
    void pullWithoutARepositoryListsTheCatalogue() {
        CliRun r = cli("pull");
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("TensorStack/stable-diffusion-3.5-large-turbo-onnx"), r.out());
    }
}
