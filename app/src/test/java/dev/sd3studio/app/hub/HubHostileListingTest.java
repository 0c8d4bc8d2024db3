package dev.sd3studio.app.hub;

import dev.sd3studio.app.cli.Cli;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    static Map<String, Object> listed(String path) {
        return Map.of("type", "file", "path", path, "size", 10, "oid", "0123456789012345678901234567890123456789");
    }

    HubException planFails() {
        return assertThrows(HubException.class, () -> downloader().plan(RepoRef.parse(REPO), tmp.resolve("out/model"), false));
    }

    @ParameterizedTest
    @ValueSource(strings = {"transformer/../../../escaped.json", "transformer/nul\u0000.json", "transformer/C:model.json",
            "transformer/what?.json", "transformer/star*.json", "transformer/pipe|.json", "transformer//etc/x.json",
            "transformer/back\\..\\slash.json", "transformer/con.json", "transformer/./x.json"})
    void anUnsafeOrNonPortableNameIsRefusedByNameBeforeAnyFileIsTouched(String name) throws IOException {
        hub.extraEntries.put(REPO, List.of(listed(name)));
        HubException e = planFails();
        assertEquals(HubException.Kind.UNSAFE_NAME, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("will not write") && e.getMessage().contains("Nothing was downloaded"), e.getMessage());
        assertFalse(anyDownload());
        // the check is on the listing's strings: no staging folder, nothing beside the destination
        assertFalse(Files.exists(tmp.resolve("out")));
        try (Stream<Path> all = Files.walk(tmp)) {
            assertTrue(all.noneMatch(p -> p.getFileName().toString().contains("escaped")));
        }
    }

    @Test
    void theCliSaysWhyANameIsRefusedAndPrintsNoEscapeSequence() {
        hub.extraEntries.put(REPO, List.of(listed("transformer/\u001b]8;;http://evil\u0007x\u001b[2J.json")));
        Run r = pull("escape");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("will not write") && r.err().contains("contains a control character"), r.err());
        assertFalse(r.err().contains("\u001b") || r.err().contains("\u0007"), "raw escape printed: " + r.err());
        assertTrue(r.err().contains("\\u001b]8;;http://evil\\u0007x"), r.err());
        assertFalse(r.err().contains("unexpected failure"), r.err());
    }

    Run pullMissing() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Cli.run(new PrintWriter(out, true), new PrintWriter(err, true),
                "pull", "nobody/nothing", "--dest", tmp.resolve("x").toString(), "--endpoint", hub.endpoint());
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void anErrorHeaderWithAnEscapeSequenceIsPrintedAsText() {
        // an 8-bit CSI (C1) passes the HTTP client's header check and reaches the message
        hub.notFoundErrorCode = "RepoNotFound\u009b2J";
        Run c1 = pullMissing();
        assertEquals(1, c1.exit());
        assertTrue(c1.err().contains("was not found") && c1.err().contains("RepoNotFound\\u009b2J"), c1.err());
        assertFalse(c1.err().contains("\u009b"), "raw CSI printed: " + c1.err());

        // ESC itself is refused by the HTTP client, whose message quotes the header: printed as text too
        hub.notFoundErrorCode = "RepoNotFound\u001b[2J\u001b]0;pwned\u0007";
        Run esc = pullMissing();
        assertEquals(1, esc.exit());
        assertFalse(esc.err().contains("\u001b") || esc.err().contains("\u0007"), "raw escape printed: " + esc.err());
        assertTrue(esc.err().contains("RepoNotFound\\u001b[2J"), esc.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"file:///etc/passwd", "ftp://127.0.0.1/model.onnx", "jar:file:/x.jar!/a", "http:///nohost"})
    void aRedirectToAnotherSchemeIsRefusedByName(String location) {
        hub.redirects.put(REPO + "/transformer/model.onnx", location);
        ModelDownloader d = downloader();
        HubException e = assertThrows(HubException.class,
                () -> d.download(d.plan(RepoRef.parse(REPO), tmp.resolve("redirected"), false), new DownloadControl(), p -> { }));
        assertEquals(HubException.Kind.BAD_REDIRECT, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("not an http(s) URL") && e.getMessage().contains(location), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("redirected")));

        Run r = pull("redirected-cli");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("sent a redirect to") && !r.err().contains("unexpected failure"), r.err());
    }

    @Test
    void aListingWithMoreEntriesThanAnyRepositoryIsRefusedWhileReading() {
        List<Map<String, Object>> many = new ArrayList<>();
        for (int i = 0; i < HubClient.MAX_LISTED_FILES; i++) {
            many.add(Map.of("type", "file", "path", "pad/" + i, "size", 1));
        }
        hub.extraEntries.put(REPO, many);
        hub.pageSize = 20_000;
        HubException e = planFails();
        assertEquals(HubException.Kind.LISTING_TOO_LARGE, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("more than 100000 entries") && e.getMessage().contains("nothing was downloaded"),
                e.getMessage());
    }

    @Test
    void aListingLargerThanTheByteLimitIsRefusedWhileReading() {
        hub.extraEntries.put(REPO, List.of(listed("pad/" + "x".repeat(8_000))));
        HubClient small = new HubClient(new HubSettings(hub.uri(), Optional.empty(), "none"), 1_000, 4_096);
        HubException e = assertThrows(HubException.class, () -> small.listFiles(RepoRef.parse(REPO)));
        assertEquals(HubException.Kind.LISTING_TOO_LARGE, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("more than 4.0 KB"), e.getMessage());
        assertEquals(64L * 1024 * 1024, HubClient.MAX_LISTING_BYTES);
    }
}
