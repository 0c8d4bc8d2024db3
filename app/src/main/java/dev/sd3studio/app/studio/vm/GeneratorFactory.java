package dev.sd3studio.app.studio.vm;

import dev.sd3studio.engine.Sd3Engine;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.Sd3Generator;
import dev.sd3studio.engine.model.ModelCheck;

import java.nio.file.Path;

/** How the studio reaches the engine; tests substitute recording or slow fakes here. */
public interface GeneratorFactory {
    GeneratorFactory ENGINE = new GeneratorFactory() {
        @Override
        public Sd3Generator open(Path modelDir, EngineOptions options) throws EngineException {
            return Sd3Engine.open(modelDir, options);
        }

        @Override
        public ModelCheck.Report check(Path modelDir) throws EngineException {
            return Sd3Engine.check(modelDir);
        }
    };

    Sd3Generator open(Path modelDir, EngineOptions options) throws EngineException;

    ModelCheck.Report check(Path modelDir) throws EngineException;
}
