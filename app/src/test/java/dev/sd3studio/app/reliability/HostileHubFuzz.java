package dev.sd3studio.app.reliability;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.sd3studio.app.hub.DownloadControl;
import dev.sd3studio.app.hub.DownloadProgress;
import dev.sd3studio.app.hub.HubClient;
import dev.sd3studio.app.hub.HubException;
import dev.sd3studio.app.hub.HubSettings;
import dev.sd3studio.app.hub.ModelDownloader;
import dev.sd3studio.app.hub.RepoRef;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A hostile Hub (or HF_ENDPOINT mirror) on the loopback interface, one scenario at a time: unsafe
 * listed names, missing hashes, redirects and next-page links to other schemes, listings that do
 * not end or are not lists, and sizes, Content-Length and Content-Range that lie. Each pull must end
 * in a named {@link HubException} whose message is one printable line, or in a model folder whose
 * every file is the served content (verified) or was flagged unverified; and nothing may be written
 * beside the destination and its staging folder.
 */
final class HostileHubFuzz {
    private static final String REPO = "evil-org/sd3";
    private static final List<String> FILES = List.of("model_index.json", "text_encoder/model.onnx",
            "text_encoder_2/model.onnx", "transformer/model.onnx", "vae_decoder/model.onnx",
            "tokenizer/vocab.json", "tokenizer_2/vocab.json");

    /** What the server answers for one scenario; each part may be replaced. */
    private static final class Scenario {
        final Map<String, byte[]> content = new LinkedHashMap<>();
        /** Listing entries as sent (the test mutates them). */
        final List<Map<String, Object>> entries = new ArrayList<>();
        /** A listing body sent instead of the entries, written by this callback. */
        Consumer<OutputStream> rawListing;
        String nextLink;
        /** path → Location of a redirect instead of the content. */
        final Map<String, String> redirects = new LinkedHashMap<>();
        /** path → extra headers on its content answer (Content-Range, …), and the status to send. */
        final Map<String, Map<String, String>> headers = new LinkedHashMap<>();
        final Map<String, Integer> status = new LinkedHashMap<>();
        /** path → bytes actually sent, fewer than announced (the connection then closes). */
        final Map<String, Integer> cutAt = new LinkedHashMap<>();
    }

    private final ObjectMapper json = new ObjectMapper();
    private volatile Scenario current;

    static FuzzTally run(Path dir, long seed) throws Exception {
        return new HostileHubFuzz().fuzz(dir, seed);
    }

    private FuzzTally fuzz(Path dir, long seed) throws Exception {
        FuzzTally t = new FuzzTally("hostile Hub listings");
        Random r = new Random(seed);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
        String endpoint = "http://127.0.0.1:" + server.getAddress().getPort();
        try {
            List<Map.Entry<String, Consumer<Scenario>>> cases = cases(r, endpoint);
            for (int i = 0; i < cases.size(); i++) {
                Scenario s = base(r);
                cases.get(i).getValue().accept(s);
                current = s;
                judge(t, "hub case " + i + " (" + cases.get(i).getKey() + ")", s, endpoint,
                        Files.createDirectories(dir.resolve("c" + i)));
            }
        } finally {
            server.stop(0);
        }
        return t;
    }

    private List<Map.Entry<String, Consumer<Scenario>>> cases(Random r, String endpoint) {
        List<Map.Entry<String, Consumer<Scenario>>> cases = new ArrayList<>();
        String[] names = {"../../../escaped.json", "a/../../../../escaped.onnx", "..", "nul\u0000.json", "C:x.json",
                "x:stream.onnx", "\u001b]8;;http://evil\u0007x\u001b[2J.json", "a\u009b2J.json", "what?.onnx", "con.json",
                "back\\..\\..\\slash.json", "/etc/escaped.json", "./x.json", "x".repeat(300) + ".json", "a//b.json",
                "trailing.json ", "trailing.json."};
        for (int i = 0; i < 14; i++) {
            String name = names[r.nextInt(names.length)];
            String folder = r.nextBoolean() ? "transformer/" : "tokenizer/";
            cases.add(Map.entry("listed name " + printable(folder + name), s -> addFile(s, folder + name, r)));
        }
        cases.add(Map.entry("escaping name replaces a needed file", s -> rename(s, "vae_decoder/model.onnx",
                "vae_decoder/../../escaped.onnx")));
        cases.add(Map.entry("LFS file without its SHA-256", s -> lfsRecord(s, pick(r, ".onnx")).remove("oid")));
        cases.add(Map.entry("LFS oid not hex", s -> lfsRecord(s, pick(r, ".onnx")).put("oid", "../../etc/passwd")));
        cases.add(Map.entry("no hashes at all", s -> s.entries.forEach(e -> {
            e.remove("oid");
            e.remove("lfs");
        })));
        cases.add(Map.entry("wrong LFS hash", s -> lfsRecord(s, pick(r, ".onnx")).put("oid", "0".repeat(64))));
        for (String location : new String[] {"file:///etc/passwd", "ftp://127.0.0.1/model.onnx", "jar:file:/x.jar!/a",
                "http:///nohost", "::::not a url::::", "https://127.0.0.1:1/x", "data:,hello"}) {
            cases.add(Map.entry("redirect to " + location, s -> s.redirects.put(pick(r, ""), location)));
        }
        cases.add(Map.entry("redirect loop", s -> {
            String f = pick(r, "");
            s.redirects.put(f, endpoint + "/" + REPO + "/resolve/main/" + f);
        }));
        for (String link : new String[] {"file:///etc/passwd", "ftp://127.0.0.1/next", "gopher://x/"}) {
            cases.add(Map.entry("next-page link to " + link, s -> s.nextLink = link));
        }
        cases.add(Map.entry("listing not a list", s -> s.rawListing = out -> write(out, "{\"error\":\"\u001b[2Jno\"}")));
        cases.add(Map.entry("listing cut off", s -> s.rawListing = out -> write(out, "[{\"type\":\"file\",\"path\":\"tr")));
        cases.add(Map.entry("listing nested 100000 deep", s -> s.rawListing = out -> write(out, "[".repeat(100_000))));
        cases.add(Map.entry("listing null", s -> s.rawListing = out -> write(out, "null")));
        cases.add(Map.entry("listing of 100001 entries", s -> s.rawListing = out -> {
            write(out, "[");
            for (int i = 0; i <= 100_000; i++) {
                write(out, (i == 0 ? "" : ",") + "{\"type\":\"file\",\"path\":\"pad/" + i + "\",\"size\":1}");
            }
            write(out, "]");
        }));
        cases.add(Map.entry("listing of 70 MB", s -> s.rawListing = out -> {
            String pad = "{\"type\":\"directory\",\"path\":\"" + "p".repeat(1000) + "\"},";
            write(out, "[");
            for (long sent = 0; sent < 70L << 20; sent += pad.length()) {
                write(out, pad);
            }
            write(out, "]");
        }));
        cases.add(Map.entry("listed size smaller than served", s -> setSize(s, pick(r, ""), 3)));
        cases.add(Map.entry("listed size larger than served", s -> setSize(s, pick(r, ""), 5000)));
        cases.add(Map.entry("listed size 2^62", s -> setSize(s, pick(r, ""), 1L << 62)));
        cases.add(Map.entry("listed size negative", s -> setSize(s, pick(r, ""), -5)));
        cases.add(Map.entry("listed size not a number", s -> entry(s, pick(r, "")).put("size", "huge")));
        cases.add(Map.entry("connection cut before Content-Length", s -> s.cutAt.put(pick(r, ".onnx"), 7)));
        for (String range : new String[] {"bytes 7-99/100", "bytes 99999999999999999999-1/2", "bytes -5-3/9",
                "garbage", "bytes 0-0/0"}) {
            cases.add(Map.entry("206 with Content-Range " + range, s -> {
                String f = pick(r, "");
                s.status.put(f, 206);
                s.headers.put(f, Map.of("Content-Range", range));
            }));
        }
        return cases;
    }

    /** A complete, honest repository: every file with its size and hash. */
    private Scenario base(Random r) {
        Scenario s = new Scenario();
        for (String f : FILES) {
            byte[] b = new byte[200 + r.nextInt(300)];
            r.nextBytes(b);
            s.content.put(f, b);
            s.entries.add(listed(f, b));
        }
        return s;
    }

    private static Map<String, Object> listed(String path, byte[] b) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("type", "file");
        e.put("path", path);
        e.put("size", b.length);
        if (path.endsWith(".onnx")) {
            e.put("oid", "1".repeat(40));
            e.put("lfs", new LinkedHashMap<>(Map.of("oid", hex("SHA-256", b), "size", b.length)));
        } else {
            byte[] header = ("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII);
            byte[] blob = new byte[header.length + b.length];
            System.arraycopy(header, 0, blob, 0, header.length);
            System.arraycopy(b, 0, blob, header.length, b.length);
            e.put("oid", hex("SHA-1", blob));
        }
        return e;
    }

    private static void addFile(Scenario s, String path, Random r) {
        byte[] b = new byte[50];
        r.nextBytes(b);
        s.content.put(path, b);
        s.entries.add(listed(path, b));
    }

    private static void rename(Scenario s, String from, String to) {
        s.content.put(to, s.content.remove(from));
        entry(s, from).put("path", to);
    }

    private static Map<String, Object> entry(Scenario s, String path) {
        return s.entries.stream().filter(e -> path.equals(e.get("path"))).findFirst().orElseThrow();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> lfsRecord(Scenario s, String path) {
        return (Map<String, Object>) entry(s, path).get("lfs");
    }

    private static void setSize(Scenario s, String path, long size) {
        Map<String, Object> e = entry(s, path);
        e.put("size", size);
        if (e.get("lfs") instanceof Map<?, ?> lfs) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) lfs;
            m.put("size", size);
        }
    }

    private static String pick(Random r, String suffix) {
        List<String> fit = FILES.stream().filter(f -> f.endsWith(suffix)).toList();
        return fit.get(r.nextInt(fit.size()));
    }

    // ---- the server ---------------------------------------------------------------------------------

    private void handle(HttpExchange ex) throws IOException {
        Scenario s = current;
        String path = URLDecoder.decode(ex.getRequestURI().getRawPath(), StandardCharsets.UTF_8);
        try (ex) {
            if (path.startsWith("/api/models/" + REPO + "/tree/")) {
                if (s.nextLink != null) {
                    ex.getResponseHeaders().set("Link", "<" + s.nextLink + ">; rel=\"next\"");
                }
                ex.sendResponseHeaders(200, 0); // chunked: no length to trust
                try (OutputStream out = ex.getResponseBody()) {
                    if (s.rawListing != null) {
                        s.rawListing.accept(out);
                    } else {
                        out.write(json.writeValueAsBytes(s.entries));
                    }
                }
                return;
            }
            String prefix = "/" + REPO + "/resolve/main/";
            String file = path.startsWith(prefix) ? path.substring(prefix.length()) : null;
            if (file == null || !s.content.containsKey(file)) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            if (s.redirects.containsKey(file)) {
                ex.getResponseHeaders().set("Location", s.redirects.get(file));
                ex.sendResponseHeaders(302, -1);
                return;
            }
            byte[] b = s.content.get(file);
            s.headers.getOrDefault(file, Map.of()).forEach((k, v) -> ex.getResponseHeaders().set(k, v));
            ex.sendResponseHeaders(s.status.getOrDefault(file, 200), b.length);
            OutputStream out = ex.getResponseBody();
            out.write(b, 0, Math.min(b.length, s.cutAt.getOrDefault(file, b.length)));
            out.flush();
        } catch (IOException | RuntimeException e) {
            // the client hung up (a refused listing is closed early): nothing to answer
        }
    }

    private static void write(OutputStream out, String text) {
        try {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // the client stopped reading: the handler ends
        }
    }

    // ---- judging --------------------------------------------------------------------------------------

    private void judge(FuzzTally t, String what, Scenario s, String endpoint, Path caseDir) throws IOException {
        Path dest = caseDir.resolve("model");
        List<DownloadProgress> seen = new CopyOnWriteArrayList<>();
        ModelDownloader d = new ModelDownloader(new HubClient(new HubSettings(java.net.URI.create(endpoint),
                Optional.empty(), "none")), 2, Duration.ofMillis(1), Duration.ofSeconds(5));
        String outcome;
        try {
            d.download(d.plan(RepoRef.parse(REPO), dest, false), new DownloadControl(), seen::add);
            outcome = installedAsServedOrFlagged(s, dest, seen);
        } catch (HubException e) {
            outcome = FuzzTally.isOneCleanLine(e.getMessage()) ? null
                    : "HubException " + e.kind() + " whose message is not one printable line: " + printable(e.getMessage());
        } catch (Throwable e) {
            outcome = e.toString();
        }
        String stray = strayFiles(caseDir, dest);
        if (outcome == null && stray == null) {
            t.handled();
        } else {
            t.crashed(what + ": " + printable(outcome != null ? outcome : stray));
        }
    }

    /** Null when every installed file is what the server sent for it, or was reported as unverified. */
    private static String installedAsServedOrFlagged(Scenario s, Path dest, List<DownloadProgress> seen) throws IOException {
        List<String> flagged = seen.stream().filter(p -> p.state() == DownloadProgress.State.UNVERIFIED)
                .map(DownloadProgress::file).toList();
        try (Stream<Path> files = Files.walk(dest)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String rel = dest.relativize(f).toString().replace('\\', '/');
                byte[] served = s.content.get(rel);
                if ((served == null || !java.util.Arrays.equals(served, Files.readAllBytes(f))) && !flagged.contains(rel)) {
                    return rel + " installed with content the server did not send for it, and not flagged";
                }
            }
        }
        return null;
    }

    /** Anything in the case's folder but the destination and its staging folder, or any link. */
    private static String strayFiles(Path caseDir, Path dest) throws IOException {
        Path staging = ModelDownloader.stagingFor(dest);
        try (Stream<Path> all = Files.walk(caseDir)) {
            for (Path p : all.toList()) {
                Path abs = p.toAbsolutePath().normalize();
                boolean inside = abs.equals(caseDir.toAbsolutePath().normalize()) || abs.startsWith(dest.toAbsolutePath())
                        || abs.startsWith(staging);
                if (!inside || Files.isSymbolicLink(p)) {
                    return "wrote " + caseDir.relativize(p);
                }
            }
        }
        try (Stream<Path> up = Files.walk(caseDir.getParent().getParent(), 2)) {
            Optional<Path> escaped = up.filter(p -> p.getFileName().toString().contains("escaped")).findFirst();
            if (escaped.isPresent()) {
                return "wrote outside the case folder: " + escaped.get();
            }
        }
        return null;
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(c -> b.append(c < 0x20 || (c >= 0x7f && c < 0xa0) ? String.format("\\u%04x", c)
                : new String(Character.toChars(c))));
        return b.length() > 300 ? b.substring(0, 300) + "…" : b.toString();
    }

    private static String hex(String algorithm, byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
