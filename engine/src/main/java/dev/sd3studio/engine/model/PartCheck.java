package dev.sd3studio.engine.model;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.runtime.OnnxModel;

import java.nio.file.Path;

/**
 * The checks generation itself makes when it opens a part (input and output names, tokenizer
 * files), handed to {@link ModelCheck} so that "usable" means generate can open every part.
 */
public interface PartCheck {
    PartCheck NONE = new PartCheck() {
        @Override
        public void component(Component c, OnnxModel model) {
        }

        @Override
        public void tokenizer(String name, Path dir) {
        }
    };

    /** Throws when {@code model} lacks the interface the pipeline feeds component {@code c}. */
    void component(Component c, OnnxModel model) throws EngineException;

    /** Throws when the tokenizer in {@code dir} cannot be opened. */
    void tokenizer(String name, Path dir) throws EngineException;
}
