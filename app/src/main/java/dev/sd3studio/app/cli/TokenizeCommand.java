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

import java.util.Map;
import java.util.concurrent.Callable;

/** {@code sd3studio tokenize}: the token ids each of the three tokenizers gives a prompt, as JSON. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the CLIP-L, CLIP-G and T5 token ids of a prompt as one JSON object.")
public final class TokenizeCommand implements Callable<Integer> {
    @Mixin
    ModelOption model;
    @Option(names = "--prompt", required = true, paramLabel = "TEXT")
    String prompt;
    @Option(names = "--max-sequence-length", paramLabel = "N", description = "T5 length (default: ${DEFAULT-VALUE})")
    int maxSequenceLength = 256;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        try (Sd3Generator engine = Sd3Engine.open(model.resolve(), EngineOptions.defaults())) {
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
}
