package dev.sd3studio.app.hub;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Hub's public HTTP API, used as {@code huggingface_hub} uses it: the recursive tree listing
 * (following {@code Link} pagination) and {@code resolve} downloads (following redirects, resuming
 * with {@code Range}). Redirects are followed here rather than by the HTTP client so that the token
 * goes to the Hub only, never to the storage host a download is redirected to.
 */
public final class HubClient {
    private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");
    private static final int MAX_REDIRECTS = 10;
    private static final String USER_AGENT = "sd3studio/0.1 (java.net.http)";

    /** Far above any model repository (the largest have a few thousand files and a few MB of listing). */
    static final int MAX_LISTED_FILES = 100_000;
    static final long MAX_LISTING_BYTES = 64L * 1024 * 1024;

    private final HubSettings settings;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();
    private final int maxListedFiles;
    private final long maxListingBytes;

    public HubClient(HubSettings settings) {
        this(settings, MAX_LISTED_FILES, MAX_LISTING_BYTES);
    }

    HubClient(HubSettings settings, int maxListedFiles, long maxListingBytes) {
        this.settings = settings;
        this.maxListedFiles = maxListedFiles;
        this.maxListingBytes = maxListingBytes;
        this.http = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(20))
                .build();
    }

    public HubSettings settings() {
        return settings;
    }

    /**
     * Every file of the repository at its revision, with sizes and the hashes the listing gives.
     * The listing is read entry by entry and bounded in entries and bytes, so an endpoint that
     * never stops sending cannot make us hold unbounded memory.
     */
    public List<HubFile> listFiles(RepoRef ref) throws HubException {
        List<HubFile> files = new ArrayList<>();
        URI next = URI.create(settings.endpoint() + "/api/models/" + ref.repo() + "/tree/"
                + encode(ref.revision()) + "?recursive=true");
        int pages = 0;
        int entries = 0;
        ByteBudget budget = new ByteBudget(maxListingBytes);
        while (next != null) {
            if (++pages > 10_000) {
                throw new HubException(HubException.Kind.NETWORK, "the Hub's file list for " + ref + " does not end");
            }
            HttpResponse<InputStream> r = send(next, -1, hubErrors(ref));
            try (InputStream body = budget.wrap(r.body()); JsonParser page = json.createParser(body)) {
                if (page.nextToken() != JsonToken.START_ARRAY) {
                    throw new HubException(HubException.Kind.NETWORK, "the Hub answered the file list of " + ref
                            + " with something that is not a list; is HF_ENDPOINT (" + settings.endpoint() + ") a Hub?");
                }
                while (page.nextToken() == JsonToken.START_OBJECT) {
                    if (++entries > maxListedFiles) {
                        throw tooLarge(ref, "more than " + maxListedFiles + " entries");
                    }
                    JsonNode e = json.readTree(page);
                    if ("file".equals(e.path("type").asText())) {
                        JsonNode lfs = e.get("lfs");
                        boolean isLfs = lfs != null && lfs.isObject();
                        files.add(new HubFile(e.path("path").asText(), Math.max(0, e.path("size").asLong()), isLfs,
                                isLfs ? lfs.path("oid").asText(null) : null, e.path("oid").asText(null)));
                    }
                }
            } catch (ByteBudget.Exceeded e) {
                throw tooLarge(ref, "more than " + Sizes.human(maxListingBytes));
            } catch (IOException e) {
                throw new HubException(HubException.Kind.NETWORK, "reading the file list of " + ref + " failed: "
                        + describe(e) + "; check the connection and try again", e);
            }
            String link = nextPage(r).orElse(null);
            next = link == null ? null : redirectTarget(r.uri(), link, "next-page link");
        }
        return files;
    }

    private static HubException tooLarge(RepoRef ref, String what) {
        return new HubException(HubException.Kind.LISTING_TOO_LARGE, "the file list of " + ref + " has " + what
                + ", far more than any model repository; nothing was downloaded. Check the repository id, and"
                + " HF_ENDPOINT if it points at a mirror");
    }

    static Optional<String> nextPage(HttpResponse<?> r) {
        for (String link : r.headers().allValues("Link")) {
            Matcher m = NEXT_LINK.matcher(link);
            if (m.find()) {
                return Optional.of(m.group(1));
            }
        }
        return Optional.empty();
    }

    /** The URL {@code huggingface_hub} downloads a file from. */
    public URI resolveUri(RepoRef ref, String path) {
        StringBuilder p = new StringBuilder();
        for (String segment : path.split("/")) {
            p.append('/').append(encode(segment));
        }
        return URI.create(settings.endpoint() + "/" + ref.repo() + "/resolve/" + encode(ref.revision()) + p);
    }

    /**
     * Opens a file's content from {@code offset}. The answer says where it really starts: a server
     * that ignores {@code Range} sends the whole file again, and then {@code start} is 0.
     */
    public Download open(RepoRef ref, String path, long offset) throws HubException {
        return download(send(resolveUri(ref, path), offset, hubErrors(ref)), offset);
    }

    private static Download download(HttpResponse<InputStream> r, long offset) {
        long start = 0;
        if (r.statusCode() == 206) {
            start = r.headers().firstValue("Content-Range").map(HubClient::rangeStart).orElse(offset);
        }
        long length = r.headers().firstValueAsLong("Content-Length").orElse(-1);
        return new Download(r.body(), start, length);
    }

    /** Opens any http(s) URL from {@code offset} (the GPU pack's archives), without a token, errors worded for a URL. */
    public Download open(URI url, long offset) throws HubException {
        return download(send(url, offset, urlErrors(url)), offset);
    }

    /** A small document (a manifest) whole, refused beyond {@code maxBytes}. */
    public byte[] fetchSmall(URI url, int maxBytes) throws HubException {
        try (InputStream in = send(url, -1, urlErrors(url)).body()) {
            byte[] body = in.readNBytes(maxBytes + 1);
            if (body.length > maxBytes) {
                throw new HubException(HubException.Kind.NETWORK, url + " sent more than " + Sizes.human(maxBytes)
                        + ", far more than the document expected there; nothing was used");
            }
            return body;
        } catch (IOException e) {
            throw new HubException(HubException.Kind.NETWORK, "reading " + url + " failed (" + describe(e)
                    + "); check the connection and try again", e);
        }
    }

    private static StatusErrors urlErrors(URI url) {
        return (status, errorCode) -> new HubException(status == 404 ? HubException.Kind.NOT_FOUND : HubException.Kind.NETWORK,
                "fetching " + url + " failed with HTTP " + status + (status == 404 ? "; check the URL (or the recipe's URLs)"
                        : "; try again later"));
    }

    static long rangeStart(String contentRange) {
        // "bytes 100-199/200"; a start beyond a long (a lying server) reads as no start: the content is
        // then taken from its beginning, and its hash decides
        Matcher m = Pattern.compile("bytes\\s+(\\d{1,18})-").matcher(contentRange);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /** An open download: its stream, the offset it starts at, and the bytes still to come (or -1). */
    public record Download(InputStream stream, long start, long length) implements java.io.Closeable {
        @Override
        public void close() throws IOException {
            stream.close();
        }
    }

    /** How an HTTP error status becomes a message: worded for a Hub repository, or for a plain URL. */
    private interface StatusErrors {
        HubException error(int status, String errorCode);
    }

    private StatusErrors hubErrors(RepoRef ref) {
        return (status, errorCode) -> statusError(ref, status, errorCode);
    }

    private HttpResponse<InputStream> send(URI uri, long rangeFrom, StatusErrors errors) throws HubException {
        URI current = uri;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(current).GET()
                    .header("User-Agent", USER_AGENT)
                    .timeout(Duration.ofSeconds(60));
            if (settings.token().isPresent() && sameOrigin(current, settings.endpoint())) {
                b.header("Authorization", "Bearer " + settings.token().get());
            }
            if (rangeFrom > 0) {
                b.header("Range", "bytes=" + rangeFrom + "-");
            }
            HttpResponse<InputStream> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw new HubException(HubException.Kind.NETWORK, "cannot reach " + current.getHost()
                        + " (" + describe(e) + "); check the connection" + (HubSettings.DEFAULT_ENDPOINT.equals(
                        settings.endpoint().toString()) ? "" : " and HF_ENDPOINT=" + settings.endpoint()), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException(HubException.Kind.CANCELLED, "download cancelled", e);
            }
            int status = r.statusCode();
            if (status >= 300 && status < 400 && r.headers().firstValue("Location").isPresent()) {
                closeQuietly(r.body());
                current = redirectTarget(current, r.headers().firstValue("Location").get(), "redirect");
                continue;
            }
            if (status == 200 || status == 206) {
                return r;
            }
            String errorCode = r.headers().firstValue("X-Error-Code").orElse("");
            closeQuietly(r.body());
            throw errors.error(status, TerminalSafe.text(errorCode.length() > 100 ? errorCode.substring(0, 100) : errorCode));
        }
        throw new HubException(HubException.Kind.NETWORK, "too many redirects while downloading from " + uri.getHost());
    }

    /**
     * Where a redirect or a next-page link leads, if it is a place we fetch from: an http(s) URL
     * with a host, and https when the endpoint is https (a downgrade would let the network choose
     * the listing, and so the hashes). Anything else ({@code file:}, {@code ftp:}, garbage) is refused.
     */
    private static URI redirectTarget(URI from, String location, String what) throws HubException {
        URI to;
        try {
            to = from.resolve(location.strip());
        } catch (IllegalArgumentException e) {
            throw badRedirect(from, location, what, "which is not a valid URL");
        }
        String scheme = to.getScheme() == null ? "" : to.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http") || to.getHost() == null) {
            throw badRedirect(from, location, what, "which is not an http(s) URL");
        }
        if (scheme.equals("http") && "https".equalsIgnoreCase(from.getScheme())) {
            throw badRedirect(from, location, what, "which drops from https to plain http");
        }
        return to;
    }

    private static HubException badRedirect(URI from, String location, String what, String why) {
        String shown = location.length() > 200 ? location.substring(0, 200) + "…" : location;
        return new HubException(HubException.Kind.BAD_REDIRECT, from.getHost() + " sent a " + what + " to \""
                + TerminalSafe.text(shown) + "\", " + why + "; nothing was fetched from there. If HF_ENDPOINT points at"
                + " a mirror or proxy, it is misconfigured or not to be trusted");
    }

    private HubException statusError(RepoRef ref, int status, String errorCode) {
        String page = HubSettings.DEFAULT_ENDPOINT + "/" + ref.repo();
        if (errorCode.startsWith("RepoNotFound") || errorCode.startsWith("RepositoryNotFound")
                || errorCode.startsWith("RevisionNotFound") || errorCode.startsWith("EntryNotFound") || status == 404) {
            return new HubException(HubException.Kind.NOT_FOUND, ref + " was not found on the Hub (" + status
                    + (errorCode.isEmpty() ? "" : " " + errorCode) + "); check the repository id and revision"
                    + (settings.token().isEmpty() ? ", or set HF_TOKEN if it is private" : ""));
        }
        if (status == 401 || status == 403) {
            if (settings.token().isEmpty()) {
                return new HubException(HubException.Kind.AUTH, ref.repo() + " is gated or private (HTTP " + status
                        + "): open " + page + ", log in and accept its licence, then create a read token at "
                        + HubSettings.DEFAULT_ENDPOINT + "/settings/tokens and set HF_TOKEN=<token>"
                        + " (or run `hf auth login`), and try again");
            }
            return new HubException(HubException.Kind.AUTH, "the Hub refused your token (from "
                    + settings.tokenSource() + ") for " + ref.repo() + " (HTTP " + status + "): accept the licence on "
                    + page + " with the same account, and check that the token has read access");
        }
        if (status == 416) {
            return new HubException(HubException.Kind.NETWORK, "the server refused to resume a file of " + ref
                    + " (HTTP 416); run the download again");
        }
        return new HubException(HubException.Kind.NETWORK, "the Hub answered HTTP " + status + " for " + ref
                + (status == 429 ? " (too many requests)" : status >= 500 ? " (server trouble)" : "")
                + "; try again in a few minutes");
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** An I/O failure in words: its message (which may quote the server, so made printable) or its type. */
    public static String describe(IOException e) {
        return e.getMessage() == null || e.getMessage().isBlank() ? kindInWords(e) : TerminalSafe.text(e.getMessage());
    }

    /** A failure without a message named by its kind in words: ConnectException reads "connect error". */
    public static String kindInWords(Throwable e) {
        String name = e.getClass().getSimpleName().replaceAll("(Exception|Error)$", "");
        String words = name.replaceAll("([a-z0-9])([A-Z])", "$1 $2").toLowerCase(java.util.Locale.ROOT).trim();
        return words.isEmpty() ? "unknown error" : words + " error";
    }

    /** Counts the bytes of one listing across its pages and stops reading past the limit. */
    private static final class ByteBudget {
        private long left;

        ByteBudget(long limit) {
            left = limit;
        }

        InputStream wrap(InputStream in) {
            return new java.io.FilterInputStream(in) {
                @Override
                public int read() throws IOException {
                    int b = super.read();
                    if (b >= 0) {
                        spend(1);
                    }
                    return b;
                }

                @Override
                public int read(byte[] buf, int off, int len) throws IOException {
                    int n = super.read(buf, off, len);
                    if (n > 0) {
                        spend(n);
                    }
                    return n;
                }
            };
        }

        private void spend(long n) throws Exceeded {
            left -= n;
            if (left < 0) {
                throw new Exceeded();
            }
        }

        static final class Exceeded extends IOException {
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // an unread redirect or error body; the connection is dropped either way
        }
    }
}
