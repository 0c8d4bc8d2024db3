package dev.sd3studio.app.hub;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where the Hub is and who we are, found the way {@code huggingface_hub} finds them, so users of
 * that ecosystem need no new setup: {@code HF_ENDPOINT} (default the public Hub), and the token
 * from {@code HF_TOKEN}, else the file {@code HF_TOKEN_PATH}, else {@code $HF_HOME/token} with
 * {@code HF_HOME} defaulting to {@code $XDG_CACHE_HOME/huggingface} or {@code ~/.cache/huggingface}.
 */
public record HubSettings(URI endpoint, Optional<String> token, String tokenSource) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    public static HubSettings fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home", ".")));
    }

    static HubSettings fromEnvironment(Map<String, String> env, Path home) {
        String endpoint = env.getOrDefault("HF_ENDPOINT", DEFAULT_ENDPOINT).strip();
        while (endpoint.endsWith("/")) {
            endpoint = endpoint.substring(0, endpoint.length() - 1);
        }
        String fromEnv = env.get("HF_TOKEN");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return new HubSettings(endpoint(endpoint), Optional.of(fromEnv.strip()), "HF_TOKEN");
        }
        Path file = tokenFile(env, home);
        try {
            if (Files.isRegularFile(file)) {
                String t = Files.readString(file).strip();
                if (!t.isEmpty()) {
                    return new HubSettings(endpoint(endpoint), Optional.of(t), file.toString());
                }
            }
        } catch (IOException ignored) {
            // an unreadable token file is the same as none: public repositories still work
        }
        return new HubSettings(endpoint(endpoint), Optional.empty(), "none");
    }

    /** An http(s) URL, or a message that says what is wrong with it. */
    static URI endpoint(String url) {
        try {
            URI u = new URI(url);
            if (("http".equalsIgnoreCase(u.getScheme()) || "https".equalsIgnoreCase(u.getScheme())) && u.getHost() != null) {
                return u;
            }
        } catch (java.net.URISyntaxException ignored) {
            // the message below says what is expected
        }
        throw new IllegalArgumentException("the Hub endpoint '" + url + "' (HF_ENDPOINT or --endpoint) is not an http(s)"
                + " URL such as " + DEFAULT_ENDPOINT);
    }

    static Path tokenFile(Map<String, String> env, Path home) {
        String explicit = env.get("HF_TOKEN_PATH");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String hfHome = env.get("HF_HOME");
        if (hfHome != null && !hfHome.isBlank()) {
            return Path.of(hfHome).resolve("token");
        }
        String xdgCache = env.get("XDG_CACHE_HOME");
        Path cache = xdgCache != null && !xdgCache.isBlank() ? Path.of(xdgCache) : home.resolve(".cache");
        return cache.resolve("huggingface").resolve("token");
    }

    public HubSettings withEndpoint(String url) {
        String e = url.strip();
        while (e.endsWith("/")) {
            e = e.substring(0, e.length() - 1);
        }
        return new HubSettings(endpoint(e), token, tokenSource);
    }

    public HubSettings withToken(String t) {
        return new HubSettings(endpoint, Optional.ofNullable(t), "given");
    }
}
