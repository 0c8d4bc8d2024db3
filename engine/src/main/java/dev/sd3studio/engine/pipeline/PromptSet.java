package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.GenerationRequest;

import java.util.Collections;
import java.util.List;

/**
 * The three prompts of every batch item, with the reference's defaults filled in: prompt 2 and 3
 * default to prompt 1; negative prompt to "", negative 2 and 3 to the negative prompt. A list of
 * one value applies to the whole batch.
 */
record PromptSet(List<String> clipL, List<String> clipG, List<String> t5) {

    static PromptSet positive(GenerationRequest r) throws EngineException {
        List<String> p = r.prompts();
        return new PromptSet(p, orDefault(r.prompts2(), p, "--prompt-2"), orDefault(r.prompts3(), p, "--prompt-3"));
    }

    static PromptSet negative(GenerationRequest r) throws EngineException {
        int n = r.prompts().size();
        List<String> neg = r.negatives().isEmpty() ? Collections.nCopies(n, "") : broadcast(r.negatives(), n, "--negative");
        return new PromptSet(neg, orDefault(r.negatives2(), neg, "--negative-2"),
                orDefault(r.negatives3(), neg, "--negative-3"));
    }

    private static List<String> orDefault(List<String> given, List<String> fallback, String flag) throws EngineException {
        return given.isEmpty() ? fallback : broadcast(given, fallback.size(), flag);
    }

    private static List<String> broadcast(List<String> given, int n, String flag) throws EngineException {
        if (given.size() == n) {
            return given;
        }
        if (given.size() == 1) {
            return Collections.nCopies(n, given.get(0));
        }
        throw EngineException.invalid(given.size() + " values for " + flag + " but " + n
                + " prompts: give one for each prompt, or a single one for all.");
    }
}
