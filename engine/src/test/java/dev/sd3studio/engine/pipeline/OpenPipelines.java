package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.EngineOptions;

import java.util.HashMap;
import java.util.Map;

/** Fixture pipelines opened once per test class and model (opening costs more than a tiny case), closed after it. */
final class OpenPipelines implements AutoCloseable {
    private final Map<String, Sd3Pipeline> open = new HashMap<>();

    synchronized Sd3Pipeline get(String model) {
        return open.computeIfAbsent(model, m -> {
            try {
                return Sd3Pipeline.open(Fixtures.model(m), EngineOptions.defaults());
            } catch (Exception e) {
                throw new AssertionError("cannot open " + m, e);
            }
        });
    }

    @Override
    public synchronized void close() {
        open.values().forEach(Sd3Pipeline::close);
        open.clear();
    }
}
