package dev.sd3studio.app.studio.vm;

import dev.sd3studio.engine.Sd3Engine;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.Sd3Generator;
import dev.sd3studio.engine.api.ModelReport;

import java.nio.file.Path;

/** How the studio reaches the engine; tests substitute recording or slow fakes here. */
public interface GeneratorFactory {
    GeneratorFactory ENGINE = new GeneratorFactory() {
        private final LayoutCache cache = new LayoutCache(dir -> Sd3Engine.layout(dir, checkpointFiles()));

        @Override
        public Sd3Generator open(Path modelDir, EngineOptions options) throws EngineException {
            return Sd3Engine.open(modelDir, options);
        }

        @Override
        public ModelReport layout(Path modelDir) throws EngineException {
            return cache.get(modelDir);
        }
    };

    Sd3Generator open(Path modelDir, EngineOptions options) throws EngineException;

    /** What a checkpoint file needs besides itself: the tokenizers SD3 Studio ships. */
    static dev.sd3studio.engine.api.CheckpointFiles checkpointFiles() {
        return dev.sd3studio.engine.api.CheckpointFiles.NONE
                .withTokenizers(dev.sd3studio.app.BuiltInModel.tokenizers().orElse(null));
    }

    /**
     * The cheap layout of a model folder for the model list: files and each graph's inputs and
     * outputs, read without opening a session (never the deep probe, which loads every component).
     */
    ModelReport layout(Path modelDir) throws EngineException;
}
