package dev.sd3studio.app.hub;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A small Hub on the loopback interface, serving folders under {@code root/OWNER/NAME} in the
 * Hub's URL scheme: the recursive tree listing in pages with {@code Link} headers, {@code resolve}
 * that redirects ({@code .onnx*} files, the LFS ones, to a storage host named {@code localhost}
 * while the Hub is {@code 127.0.0.1}, the others relatively, as the real Hub does), ranges, a
 * gated repository, dropped connections, slow files and a listed hash that does not match.
 * {@code .safetensors} files are LFS objects too, as on the Hub.
 * A plain socket server (one request per connection), so a dropped connection really is one.
 */
public final class HubTestServer implements AutoCloseable {
    public record Request(String path, String range, String authorization, String host) {
    }

    private final Path root;
    private final ServerSocket server;
    private final java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
    private final ObjectMapper json = new ObjectMapper();
    final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    /** Repositories that answer 401 without {@code Authorization: Bearer <token>}. */
    final Map<String, String> gated = new HashMap<>();
    /** repo/path → how many more responses break off half-way. */
    final Map<String, Integer> drops = new HashMap<>();
    /** repo/path whose listed SHA-256 is not that of the content. */
    final Set<String> wrongHash = new HashSet<>();
    /** Repositories whose listing keeps each LFS record but drops its {@code oid} (the SHA-256). */
    final Set<String> lfsWithoutOid = new HashSet<>();
    /** Repositories whose listing gives no hash at all: no {@code oid}, no {@code lfs} record (a bare mirror). */
    final Set<String> noHashes = new HashSet<>();
    /** Entries appended to a repository's listing as they are: names no file system could hold, padding. */
    final Map<String, List<Map<String, Object>>> extraEntries = new HashMap<>();
    /** repo/path whose {@code resolve} redirects to this {@code Location} instead. */
    final Map<String, String> redirects = new HashMap<>();
    /** The {@code X-Error-Code} sent with a missing repository. */
    String notFoundErrorCode = "RepoNotFound";
    /** repo/path sent in small chunks with pauses, to have time to pause and cancel. */
    public final Set<String> slow = new HashSet<>();
    int pageSize = 5;

    public HubTestServer(Path root) throws IOException {
        this.root = root;
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        executor.submit(() -> {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    executor.submit(() -> connection(socket));
                } catch (IOException closed) {
                    return;
                }
            }
        });
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** One HTTP/1.1 exchange as the handlers see it. */
    static final class HttpExchange {
        final String rawPath;
        final String rawQuery;
        final Map<String, String> requestHeaders = new HashMap<>();
        final Map<String, String> responseHeaders = new LinkedHashMap<>();
        final Socket socket;
        private OutputStream body;

        HttpExchange(Socket socket, String target) {
            this.socket = socket;
            int q = target.indexOf('?');
            rawPath = q < 0 ? target : target.substring(0, q);
            rawQuery = q < 0 ? null : target.substring(q + 1);
        }

        String header(String name) {
            return requestHeaders.get(name.toLowerCase(java.util.Locale.ROOT));
        }

        void sendResponseHeaders(int code, long length) throws IOException {
            StringBuilder h = new StringBuilder("HTTP/1.1 " + code + " X\r\n");
            responseHeaders.forEach((k, v) -> h.append(k).append(": ").append(v).append("\r\n"));
            h.append("Content-Length: ").append(Math.max(0, length)).append("\r\nConnection: close\r\n\r\n");
            body = socket.getOutputStream();
            body.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
        }

        OutputStream getResponseBody() {
            return body;
        }
    }

    private void connection(Socket socket) {
        try (socket) {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            String line = in.readLine();
            if (line == null) {
                return;
            }
            HttpExchange ex = new HttpExchange(socket, line.split(" ")[1]);
            for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
                int colon = h.indexOf(':');
                ex.requestHeaders.put(h.substring(0, colon).strip().toLowerCase(java.util.Locale.ROOT), h.substring(colon + 1).strip());
            }
            handle(ex);
            socket.getOutputStream().flush();
        } catch (IOException ignored) {
            // the client went away
        }
    }

    /** Copies a folder into the server as {@code repo}. */
    public void addRepo(String repo, Path folder) throws IOException {
        Path target = root.resolve(repo);
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path p : walk.toList()) {
                Path t = target.resolve(folder.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    List<Request> requestsFor(String suffix) {
        synchronized (requests) {
            return requests.stream().filter(r -> r.path().endsWith(suffix)).toList();
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = URLDecoder.decode(ex.rawPath, StandardCharsets.UTF_8);
        requests.add(new Request(path, ex.header("Range"), ex.header("Authorization"), ex.header("Host")));
        {
            if (path.startsWith("/api/models/")) {
                tree(ex, path.substring("/api/models/".length()));
            } else if (path.startsWith("/cdn/") || path.startsWith("/api/resolve-cache/")) {
                String rest = path.substring(path.startsWith("/cdn/") ? 5 : "/api/resolve-cache/".length());
                String[] p = rest.split("/", 3); // owner, name, file
                serve(ex, p[0] + "/" + p[1], p[2]);
            } else if (path.contains("/resolve/")) {
                resolve(ex, path.substring(1));
            } else {
                status(ex, 404, "");
            }
        }
    }

    private boolean allowed(HttpExchange ex, String repo) throws IOException {
        String token = gated.get(repo);
        if (token != null && !("Bearer " + token).equals(ex.header("Authorization"))) {
            ex.responseHeaders.put("X-Error-Code", "GatedRepo");
            status(ex, 401, "Access to model " + repo + " is restricted.");
            return false;
        }
        return true;
    }

    private void tree(HttpExchange ex, String rest) throws IOException {
        // OWNER/NAME/tree/REVISION
        String[] p = rest.split("/");
        String repo = p[0] + "/" + p[1];
        Path dir = root.resolve(repo);
        if (!Files.isDirectory(dir)) {
            ex.responseHeaders.put("X-Error-Code", notFoundErrorCode);
            status(ex, 404, "");
            return;
        }
        if (!allowed(ex, repo)) {
            return;
        }
        List<Map<String, Object>> entries = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path f : walk.filter(x -> !x.equals(dir)).sorted().toList()) {
                String rel = dir.relativize(f).toString().replace('\\', '/');
                Map<String, Object> e = new LinkedHashMap<>();
                if (Files.isDirectory(f)) {
                    e.put("type", "directory");
                    e.put("oid", "0".repeat(40));
                    e.put("size", 0);
                    e.put("path", rel);
                } else {
                    byte[] content = Files.readAllBytes(f);
                    e.put("type", "file");
                    e.put("size", content.length);
                    e.put("path", rel);
                    byte[] hashed = wrongHash.contains(repo + "/" + rel) ? (new String(content, StandardCharsets.ISO_8859_1) + "x")
                            .getBytes(StandardCharsets.ISO_8859_1) : content;
                    if (noHashes.contains(repo)) {
                        // path, type and size only
                    } else if (isLfs(rel)) {
                        e.put("oid", hex("SHA-1", ("version https://git-lfs.github.com/spec/v1\n").getBytes()));
                        e.put("lfs", lfsWithoutOid.contains(repo) ? Map.of("size", content.length, "pointerSize", 134)
                                : Map.of("oid", hex("SHA-256", hashed), "size", content.length, "pointerSize", 134));
                    } else {
                        byte[] header = ("blob " + hashed.length + "\0").getBytes(StandardCharsets.US_ASCII);
                        byte[] blob = new byte[header.length + hashed.length];
                        System.arraycopy(header, 0, blob, 0, header.length);
                        System.arraycopy(hashed, 0, blob, header.length, hashed.length);
                        e.put("oid", hex("SHA-1", blob));
                    }
                }
                entries.add(e);
            }
        }
        entries.addAll(extraEntries.getOrDefault(repo, List.of()));
        String query = ex.rawQuery;
        int cursor = 0;
        if (query != null && query.contains("cursor=")) {
            cursor = Integer.parseInt(query.replaceAll(".*cursor=(\\d+).*", "$1"));
        }
        int end = Math.min(entries.size(), cursor + pageSize);
        if (end < entries.size()) {
            ex.responseHeaders.put("Link", "<" + endpoint() + ex.rawPath
                    + "?recursive=true&cursor=" + end + ">; rel=\"next\"");
        }
        byte[] body = json.writeValueAsBytes(entries.subList(cursor, end));
        ex.responseHeaders.put("Content-Type", "application/json");
        ex.sendResponseHeaders(200, body.length);
        ex.getResponseBody().write(body);
    }

    private void resolve(HttpExchange ex, String rest) throws IOException {
        // OWNER/NAME/resolve/REVISION/PATH
        String[] p = rest.split("/", 5);
        String repo = p[0] + "/" + p[1];
        if (!Files.isDirectory(root.resolve(repo))) {
            ex.responseHeaders.put("X-Error-Code", "RepoNotFound");
            status(ex, 404, "");
            return;
        }
        if (!allowed(ex, repo)) {
            return;
        }
        String file = p[4];
        if (redirects.containsKey(repo + "/" + file)) {
            ex.responseHeaders.put("Location", redirects.get(repo + "/" + file));
            status(ex, 302, "");
        } else if (isLfs(file)) {
            ex.responseHeaders.put("Location", "http://localhost:" + server.getLocalPort()
                    + "/cdn/" + repo + "/" + file);
            status(ex, 302, "");
        } else {
            ex.responseHeaders.put("Location", "/api/resolve-cache/" + repo + "/" + file);
            status(ex, 307, "");
        }
    }

    private void serve(HttpExchange ex, String repo, String file) throws IOException {
        Path f = root.resolve(repo).resolve(file);
        if (!Files.isRegularFile(f)) {
            ex.responseHeaders.put("X-Error-Code", "EntryNotFound");
            status(ex, 404, "");
            return;
        }
        byte[] content = Files.readAllBytes(f);
        long from = 0;
        String range = ex.header("Range");
        if (range != null && range.startsWith("bytes=")) {
            from = Long.parseLong(range.substring(6, range.indexOf('-')));
            ex.responseHeaders.put("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
        }
        int length = (int) (content.length - from);
        String key = repo + "/" + file;
        boolean drop;
        synchronized (drops) {
            int left = drops.getOrDefault(key, 0);
            drop = left > 0;
            if (drop) {
                drops.put(key, left - 1);
            }
        }
        ex.sendResponseHeaders(range == null ? 200 : 206, length);
        OutputStream out = ex.getResponseBody();
        if (drop) {
            out.write(content, (int) from, length / 2);
            out.flush();
            ex.socket.close(); // fewer bytes than announced, then the connection is gone
            return;
        }
        if (slow.contains(key)) {
            for (int off = (int) from; off < content.length; off += 16 * 1024) {
                out.write(content, off, Math.min(16 * 1024, content.length - off));
                out.flush();
                try {
                    Thread.sleep(30);
                } catch (InterruptedException e) {
                    return;
                }
            }
            return;
        }
        out.write(content, (int) from, length);
    }

    private static boolean isLfs(String path) {
        return path.endsWith(".onnx") || path.endsWith(".onnx_data") || path.endsWith(".onnx.data")
                || path.endsWith(".safetensors");
    }

    private static void status(HttpExchange ex, int code, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(code, b.length);
        if (b.length > 0) {
            ex.getResponseBody().write(b);
        }
    }

    static String hex(String algorithm, byte[] data) {
        try {
            return java.util.HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public URI uri() {
        return URI.create(endpoint());
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        executor.shutdownNow();
    }
}
