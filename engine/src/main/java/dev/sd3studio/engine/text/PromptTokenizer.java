package dev.sd3studio.engine.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.model.Json;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * A CLIP or T5 tokenizer of a model folder through DJL, loaded from local files only. Pads and
 * truncates the way the reference pipeline calls its tokenizers: to a fixed length, special
 * tokens kept, padding with the folder's own pad token (CLIP-L and CLIP-G differ here).
 */
public final class PromptTokenizer implements AutoCloseable {
    static {
        // A tokenizer made from a path needs no network; make sure DJL never tries.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }

    private final String name;
    private final HuggingFaceTokenizer tokenizer;
    private final long padId;

    private PromptTokenizer(String name, HuggingFaceTokenizer tokenizer, long padId) {
        this.name = name;
        this.tokenizer = tokenizer;
        this.padId = padId;
    }

    /** Opens {@code dir}: its {@code tokenizer.json}, or CLIP's {@code vocab.json} + {@code merges.txt}. */
    public static PromptTokenizer open(String name, Path dir) throws EngineException {
        Path json = dir.resolve("tokenizer.json");
        byte[] definition;
        try {
            if (Files.isRegularFile(json)) {
                definition = Files.readAllBytes(json);
            } else if (Files.isRegularFile(dir.resolve("vocab.json")) && Files.isRegularFile(dir.resolve("merges.txt"))) {
                definition = ClipTokenizerJson.build(dir);
            } else {
                throw new EngineException(Kind.MISSING_COMPONENT, name + " is missing: " + dir
                        + " needs tokenizer.json (or vocab.json and merges.txt for CLIP). Fetch the "
                        + dir.getFileName() + " folder of the model again.");
            }
        } catch (IOException e) {
            throw new EngineException(Kind.CORRUPT_FILE, json + " cannot be read: " + e.getMessage(), e);
        }
        HuggingFaceTokenizer tokenizer;
        try (InputStream in = new ByteArrayInputStream(definition)) {
            tokenizer = HuggingFaceTokenizer.newInstance(in,
                    Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"));
        } catch (IOException | RuntimeException e) {
            throw new EngineException(Kind.CORRUPT_FILE, name + " in " + dir + " cannot be loaded ("
                    + e.getMessage() + "); fetch the tokenizer files again.", e);
        }
        try {
            JsonNode config = Json.readIfPresent(dir.resolve("tokenizer_config.json"));
            String pad = tokenText(config.path("pad_token"), null);
            long padId = pad == null ? defaultPad(tokenizer) : singleId(tokenizer, pad, dir);
            return new PromptTokenizer(name, tokenizer, padId);
        } catch (EngineException | RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    /** A token given in a config either as a string or as {"content": ...}. */
    static String tokenText(JsonNode node, String fallback) {
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isObject() && node.path("content").isTextual()) {
            return node.path("content").asText();
        }
        return fallback;
    }

    private static long singleId(HuggingFaceTokenizer tokenizer, String token, Path dir) throws EngineException {
        long[] ids = tokenizer.encode(token, false, false).getIds();
        if (ids.length != 1) {
            throw new EngineException(Kind.CORRUPT_FILE, "the pad token '" + token + "' of " + dir
                    + " is not a single token of its vocabulary; the tokenizer files do not belong together.");
        }
        return ids[0];
    }

    /** Without a config: the last special token the tokenizer appends (CLIP's end token, T5's </s> is not a pad, 0 is). */
    private static long defaultPad(HuggingFaceTokenizer tokenizer) {
        long[] withSpecials = tokenizer.encode("", true, false).getIds();
        return withSpecials.length >= 2 ? withSpecials[withSpecials.length - 1] : 0;
    }

    public String name() {
        return name;
    }

    public long padId() {
        return padId;
    }

    /** Exactly {@code length} ids: special tokens kept, text truncated in between, padding after. */
    public TokenizedText tokenize(String text, int length) {
        long[] full = tokenizer.encode(text, true, false).getIds();
        long[] content = tokenizer.encode(text, false, false).getIds();
        int prefix = prefixLength(full, content);
        int suffix = full.length - content.length - prefix;
        long[] ids = new long[length];
        long[] mask = new long[length];
        int keep = Math.min(content.length, Math.max(0, length - prefix - suffix));
        int n = 0;
        for (int i = 0; i < prefix && n < length; i++) {
            ids[n++] = full[i];
        }
        for (int i = 0; i < keep; i++) {
            ids[n++] = content[i];
        }
        for (int i = full.length - suffix; i < full.length && n < length; i++) {
            ids[n++] = full[i];
        }
        Arrays.fill(mask, 0, n, 1);
        Arrays.fill(ids, n, length, padId);
        return new TokenizedText(ids, mask, full.length);
    }

    private static int prefixLength(long[] full, long[] content) {
        for (int p = 0; p + content.length <= full.length; p++) {
            if (Arrays.equals(full, p, p + content.length, content, 0, content.length)) {
                return p;
            }
        }
        return 0;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
