package dev.sd3studio.engine.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Wall-clock times of one generation's stages, for the result and the benchmark. */
final class Timings {
    private final Map<String, Long> totals = new LinkedHashMap<>();
    private final List<Long> stepMs = new ArrayList<>();

    void add(String stage, long nanos) {
        totals.merge(stage, nanos / 1_000_000, Long::sum);
    }

    void step(long nanos) {
        stepMs.add(nanos / 1_000_000);
    }

    void previews(List<Long> millis) {
        for (int i = 0; i < millis.size(); i++) {
            totals.put("preview_" + (i + 1), millis.get(i));
        }
    }

    Map<String, Long> snapshot() {
        Map<String, Long> out = new LinkedHashMap<>(totals);
        for (int i = 0; i < stepMs.size(); i++) {
            out.put("step_" + (i + 1), stepMs.get(i));
        }
        return out;
    }
}
