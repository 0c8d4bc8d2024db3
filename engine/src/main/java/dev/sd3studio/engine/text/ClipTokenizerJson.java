package dev.sd3studio.engine.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.model.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Builds the {@code tokenizer.json} of a CLIP tokenizer folder that only has {@code vocab.json}
 * and {@code merges.txt} (as the Hub's SD3 repositories ship it), so DJL can load it. The
 * pipeline is the CLIP fast tokenizer's: NFC, whitespace collapsed, lower case, CLIP's split
 * pattern, byte-level BPE with a {@code </w>} word suffix, start and end tokens around the text.
 * Added tokens come from {@code tokenizer_config.json} ({@code !} is one in SD3's second tokenizer).
 */
final class ClipTokenizerJson {
    static final String SPLIT_PATTERN = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d"
            + "|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

    private ClipTokenizerJson() {
    }

    static byte[] build(Path dir) throws EngineException {
        Path vocabFile = dir.resolve("vocab.json");
        Path mergesFile = dir.resolve("merges.txt");
        JsonNode vocab = Json.read(vocabFile);
        JsonNode config = Json.readIfPresent(dir.resolve("tokenizer_config.json"));
        String bos = PromptTokenizer.tokenText(config.path("bos_token"), "<|startoftext|>");
        String eos = PromptTokenizer.tokenText(config.path("eos_token"), "<|endoftext|>");
        String unk = PromptTokenizer.tokenText(config.path("unk_token"), eos);
        List<String> merges;
        try {
            merges = Files.readAllLines(mergesFile, StandardCharsets.UTF_8).stream()
                    .filter(l -> !l.startsWith("#version") && !l.isBlank()).toList();
        } catch (IOException e) {
            throw new EngineException(EngineException.Kind.CORRUPT_FILE, mergesFile + " cannot be read: "
                    + e.getMessage(), e);
        }
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.set("added_tokens", addedTokens(config, vocab, bos, eos));
        root.set("normalizer", normalizer());
        root.set("pre_tokenizer", preTokenizer());
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "RobertaProcessing");
        post.putArray("sep").add(eos).add(requireId(vocab, eos, vocabFile));
        post.putArray("cls").add(bos).add(requireId(vocab, bos, vocabFile));
        post.put("trim_offsets", false);
        post.put("add_prefix_space", false);
        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "ByteLevel");
        decoder.put("add_prefix_space", true);
        decoder.put("trim_offsets", true);
        decoder.put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", unk);
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "</w>");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.set("vocab", vocab);
        ArrayNode m = model.putArray("merges");
        merges.forEach(m::add);
        try {
            return Json.MAPPER.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new EngineException(EngineException.Kind.INTERNAL, "cannot build a tokenizer for " + dir, e);
        }
    }

    private static ArrayNode addedTokens(JsonNode config, JsonNode vocab, String bos, String eos) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        JsonNode decl = config.path("added_tokens_decoder");
        if (decl.isObject() && !decl.isEmpty()) {
            decl.properties().forEach(e -> {
                ObjectNode t = out.addObject();
                t.put("id", Integer.parseInt(e.getKey()));
                t.put("content", e.getValue().path("content").asText());
                t.put("single_word", e.getValue().path("single_word").asBoolean(false));
                t.put("lstrip", e.getValue().path("lstrip").asBoolean(false));
                t.put("rstrip", e.getValue().path("rstrip").asBoolean(false));
                t.put("normalized", e.getValue().path("normalized").asBoolean(false));
                t.put("special", e.getValue().path("special").asBoolean(true));
            });
            return out;
        }
        for (String token : new String[] {bos, eos}) {
            if (vocab.has(token)) {
                ObjectNode t = out.addObject();
                t.put("id", vocab.get(token).asInt());
                t.put("content", token);
                t.put("single_word", false);
                t.put("lstrip", false);
                t.put("rstrip", false);
                t.put("normalized", false);
                t.put("special", true);
            }
        }
        return out;
    }

    private static int requireId(JsonNode vocab, String token, Path file) throws EngineException {
        JsonNode id = vocab.get(token);
        if (id == null || !id.isInt()) {
            throw new EngineException(EngineException.Kind.CORRUPT_FILE, file + " has no id for the special token "
                    + token + "; the tokenizer folder is incomplete.");
        }
        return id.asInt();
    }

    private static ObjectNode normalizer() {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("type", "Sequence");
        ArrayNode list = n.putArray("normalizers");
        list.addObject().put("type", "NFC");
        ObjectNode replace = list.addObject();
        replace.put("type", "Replace");
        replace.putObject("pattern").put("Regex", "\\s+");
        replace.put("content", " ");
        list.addObject().put("type", "Lowercase");
        return n;
    }

    private static ObjectNode preTokenizer() {
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("type", "Sequence");
        ArrayNode list = p.putArray("pretokenizers");
        ObjectNode split = list.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", SPLIT_PATTERN);
        split.put("behavior", "Removed");
        split.put("invert", true);
        ObjectNode bytes = list.addObject();
        bytes.put("type", "ByteLevel");
        bytes.put("add_prefix_space", false);
        bytes.put("trim_offsets", true);
        bytes.put("use_regex", true);
        return p;
    }
}
