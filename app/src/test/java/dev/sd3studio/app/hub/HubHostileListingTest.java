package dev.sd3studio.app.hub;

import dev.sd3studio.app.cli.Cli;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hostile or broken Hub (or HF_ENDPOINT mirror) on the loopback interface: listings without
 * hashes, unsafe names, redirects to other schemes, a listing that does not end, escape sequences.
 * Each is refused with a message in words (or, where nothing can be checked, installed with a
 * warning), and nothing is written outside the destination.
 */
class HubHostileListingTest {
    private static final String REPO = "test-org/small-sd3";
    private static final List<String> FILES = List.of("model_index.json", "text_encoder/model.onnx",
            "text_encoder_2/model.onnx", "transformer/model.onnx", "vae_decoder/model.onnx",
            "tokenizer/vocab.json", "tokenizer_2/vocab.json");

    @TempDir
    Path tmp;
    HubTestServer hub;

    @BeforeEach
    void start() throws IOException {
        hub = new HubTestServer(Files.createDirectories(tmp.resolve("hub")));
        Path repo = tmp.resolve("repo");
        for (String f : FILES) {
            Files.createDirectories(repo.resolve(f).getParent());
            Files.writeString(repo.resolve(f), "content of " + f + " ".repeat(f.length() * 100));
        }
        hub.addRepo(REPO, repo);
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    record Run(int exit, String out, String err) {
    }

    Run pull(String dest) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Cli.run(new PrintWriter(out, true), new PrintWriter(err, true),
                "pull", REPO, "--dest", tmp.resolve(dest).toString(), "--endpoint", hub.endpoint());
        return new Run(exit, out.toString(), err.toString());
    }

    ModelDownloader downloader() {
        return new ModelDownloader(new HubClient(new HubSettings(hub.uri(), Optional.empty(), "none")), 2,
                Duration.ofMillis(10), Duration.ofSeconds(10));
    }

    boolean anyDownload() {
        return hub.requests.stream().anyMatch(r -> r.path().contains("/resolve/"));
    }

    @Test
    void anLfsFileListedWithoutItsSha256IsRefusedBeforeAnyDownload() {
        hub.lfsWithoutOid.add(REPO);
        Run r = pull("no-sha");
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains("gives no SHA-256 for") && r.err().contains("model.onnx")
                && r.err().contains("Nothing was downloaded"), r.err());
        assertFalse(anyDownload(), "nothing is fetched");
        assertFalse(Files.exists(tmp.resolve("no-sha")));
    }

    @Test
    void aListingWithoutAnyHashInstallsWithAWarningNamingEachFile() throws Exception {
        hub.noHashes.add(REPO);
        Run r = pull("bare");
        assertEquals(0, r.exit(), r.err());
        String warning = r.err().lines().filter(l -> l.startsWith("warning: ")).findFirst().orElse("");
        assertTrue(warning.contains(FILES.size() + " of the files cannot be verified"), r.err());
        for (String f : FILES) {
            assertTrue(warning.contains(f), f + " is named in: " + warning);
        }

        // the progress reports each unverified file too (what the studio shows)
        List<DownloadProgress> seen = new CopyOnWriteArrayList<>();
        ModelDownloader d = downloader();
        d.download(d.plan(RepoRef.parse(REPO), tmp.resolve("bare2"), false), new DownloadControl(), seen::add);
        List<String> flagged = seen.stream().filter(p -> p.state() == DownloadProgress.State.UNVERIFIED)
                .map(DownloadProgress::file).sorted().toList();
        assertEquals(FILES.stream().sorted().toList(), flagged);
        assertTrue(seen.stream().filter(p -> p.state() == DownloadProgress.State.UNVERIFIED)
                .allMatch(p -> p.describe().contains("warning: " + p.file() + " installed unverified")), seen.toString());
    }

    @Test
    void aSmallFileIsCheckedAgainstItsGitBlobId() {
        hub.wrongHash.add(REPO + "/tokenizer/vocab.json");
        Run r = pull("bad-blob");
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains("tokenizer/vocab.json") && r.err().contains("git SHA-1 check twice"), r.err());
        assertFalse(Files.exists(tmp.resolve("bad-blob")));
    }
}
