package dev.sd3studio.app.gpu;

import dev.sd3studio.app.hub.HubClient;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.function.LongConsumer;

/**
 * Plain HTTP(S) downloads for the GPU pack: resumable ({@code FILE.part} and {@code Range}),
 * retried when the connection drops, and accepted only when the SHA-256 matches.
 */
final class HttpFetch {
    private final HttpClient http = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(20))
            .build();
    private final int attempts;
    private final Duration backoff;

    HttpFetch(int attempts, Duration backoff) {
        this.attempts = attempts;
        this.backoff = backoff;
    }

    /** A small document (a manifest), refused beyond {@code maxBytes}. */
    byte[] bytes(URI uri, int maxBytes) throws GpuPackException {
        try {
            HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = r.body()) {
                if (r.statusCode() != 200) {
                    throw new GpuPackException("fetching " + uri + " failed with HTTP " + r.statusCode()
                            + "; check the connection (or the recipe's URLs) and try again");
                }
                byte[] body = in.readNBytes(maxBytes + 1);
                if (body.length > maxBytes) {
                    throw new GpuPackException(uri + " is larger than any release manifest; nothing was downloaded");
                }
                return body;
            }
        } catch (IOException e) {
            throw new GpuPackException("cannot reach " + uri.getHost() + " (" + HubClient.describe(e)
                    + "); check the connection", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GpuPackException("cancelled", e);
        }
    }

    /** Downloads {@code uri} to {@code target} (resuming {@code target.part}); {@code onBytes} gets each chunk's size. */
    void file(URI uri, Path target, long size, String sha256, LongConsumer onBytes) throws GpuPackException, IOException {
        if (Files.isRegularFile(target) && Files.size(target) == size && sha256.equalsIgnoreCase(hash(target))) {
            onBytes.accept(size);
            return;
        }
        Path part = target.resolveSibling(target.getFileName() + ".part");
        Files.createDirectories(target.getParent());
        if (Files.exists(part) && Files.size(part) > size) {
            Files.delete(part);
        }
        if (Files.exists(part)) {
            onBytes.accept(Files.size(part));
        }
        int failures = 0;
        while (!Files.exists(part) || Files.size(part) < size) {
            long have = Files.exists(part) ? Files.size(part) : 0;
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60));
            if (have > 0) {
                b.header("Range", "bytes=" + have + "-");
            }
            try {
                HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
                try (InputStream in = r.body()) {
                    if (r.statusCode() == 200 && have > 0) {
                        onBytes.accept(-have); // the server ignored the range: start over
                        Files.delete(part);
                    } else if (r.statusCode() != 200 && r.statusCode() != 206) {
                        throw new GpuPackException("downloading " + uri + " failed with HTTP " + r.statusCode()
                                + "; try again later");
                    }
                    try (OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                        byte[] buf = new byte[1 << 20];
                        int n;
                        while ((n = in.read(buf)) > 0) {
                            out.write(buf, 0, n);
                            onBytes.accept(n);
                        }
                    }
                }
                if (Files.size(part) < size) {
                    throw new IOException("the connection closed after " + Files.size(part) + " of " + size + " bytes");
                }
            } catch (IOException e) {
                if (++failures >= attempts) {
                    throw new GpuPackException("downloading " + uri + " keeps failing (" + HubClient.describe(e)
                            + "); what was fetched is kept: run gpu install again to resume", e);
                }
                sleep(backoff.multipliedBy(1L << Math.min(failures - 1, 5)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new GpuPackException("cancelled", e);
            }
        }
        String got = hash(part);
        if (Files.size(part) != size || !got.equalsIgnoreCase(sha256)) {
            onBytes.accept(-Files.size(part));
            Files.delete(part);
            throw new GpuPackException(uri + " failed its SHA-256 check (expected " + sha256 + ", got " + got
                    + "); it was deleted and nothing was installed. Try again later");
        }
        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static String hash(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(Duration d) throws GpuPackException {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GpuPackException("cancelled", e);
        }
    }
}
