package dev.sd3studio.app.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sd3studio.engine.Sd3Engine;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.Sd3Generator;
import dev.sd3studio.engine.api.Sd3Generator.TokenCount;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import dev.sd3studio.app.studio.vm.TokenInfo;
import dev.sd3studio.app.studio.vm.Tokens;

import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code sd3studio tokenize}: what each of the three encoders keeps of a prompt and what it cuts, as
 * a readable summary on a terminal, or the token ids as one JSON object (with --json, or when piped).
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Show how many tokens CLIP-L, CLIP-G and T5 make of a prompt and where each cuts it.",
                "On a terminal: a readable summary; piped or with --json: the token ids as one JSON object."})
public final class TokenizeCommand implements Callable<Integer> {
    @Mixin
    ModelOption model;
    @Option(names = "--prompt", required = true, paramLabel = "TEXT")
    String prompt;
    @Option(names = "--max-sequence-length", paramLabel = "N", description = "T5 length (default: ${DEFAULT-VALUE})")
    int maxSequenceLength = 256;
    @Option(names = "--json", description = "the token ids as JSON, also on a terminal")
    boolean json;
    @Option(names = "--summary", description = "the readable summary, also when piped")
    boolean summary;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        try (Sd3Generator engine = Sd3Engine.open(model.resolve(), EngineOptions.defaults().withCheckpoint(model.checkpointFiles()))) {
            if (summary || (!json && CliProgress.isTerminal())) {
                printSummary(engine);
                return 0;
            }
            for (Map.Entry<String, TokenCount> e : engine.tokenize(prompt, maxSequenceLength).entrySet()) {
                ObjectNode n = root.putObject(e.getKey());
                var ids = n.putArray("input_ids");
                for (long id : e.getValue().ids()) {
                    ids.add(id);
                }
                n.put("untruncated_length", e.getValue().untruncatedLength());
                if (e.getKey().equals("tokenizer_3")) {
                    var mask = n.putArray("attention_mask");
                    for (long m : e.getValue().attentionMask()) {
                        mask.add(m);
                    }
                }
            }
        }
        spec.commandLine().getOut().println(mapper.writeValueAsString(root));
        return 0;
    }

    /** One line per encoder: count against its limit, and where the cut falls. */
    private void printSummary(Sd3Generator engine) throws Exception {
        var out = spec.commandLine().getOut();
        Map<String, String> same = Map.of("tokenizer", prompt, "tokenizer_2", prompt, "tokenizer_3", prompt);
        for (TokenInfo t : Tokens.count(engine, same, maxSequenceLength, false)) {
            String line = String.format(java.util.Locale.ROOT, "%-7s %4d/%-3d tokens  ", t.encoder(), t.count(), t.limit());
            out.println(line + (t.truncated()
                    ? "cuts the end: keeps “…" + tail(t.kept()) + "”, drops “" + head(t.cut()) + "”"
                    : "keeps everything"));
        }
        out.flush();
    }

    private static String tail(String s) {
        return s.length() > 40 ? s.substring(s.length() - 40) : s;
    }

    private static String head(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }
}
