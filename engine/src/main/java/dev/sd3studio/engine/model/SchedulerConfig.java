package dev.sd3studio.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sd3studio.engine.api.EngineException;

import java.nio.file.Path;

/**
 * FlowMatchEulerDiscreteScheduler settings from {@code scheduler/scheduler_config.json}; the
 * defaults are the scheduler's own for a file that is silent (SD3 medium's shift 3.0).
 */
public record SchedulerConfig(int numTrainTimesteps, double shift, boolean useDynamicShifting,
                              double baseShift, double maxShift, int baseImageSeqLen, int maxImageSeqLen,
                              Double shiftTerminal, boolean exponentialTimeShift) {

    public static final SchedulerConfig SD3_DEFAULT =
            new SchedulerConfig(1000, 3.0, false, 0.5, 1.15, 256, 4096, null, true);

    public static SchedulerConfig read(Path file) throws EngineException {
        return of(Json.readIfPresent(file), file);
    }

    /** {@code source} names the config in messages: its file, or where a built-in one came from. */
    public static SchedulerConfig of(JsonNode n, Object file) throws EngineException {
        if (n.isMissingNode()) {
            return SD3_DEFAULT;
        }
        for (String unsupported : new String[] {"use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas",
                "invert_sigmas", "stochastic_sampling"}) {
            if (n.path(unsupported).asBoolean(false)) {
                throw new EngineException(EngineException.Kind.INCOMPATIBLE_MODEL, file + " sets " + unsupported
                        + ", which SD3 Studio does not support yet; set it to false to use the standard schedule.");
            }
        }
        JsonNode terminal = n.path("shift_terminal");
        return new SchedulerConfig(
                Json.integer(n, "num_train_timesteps", 1000),
                Json.number(n, "shift", 3.0),
                n.path("use_dynamic_shifting").asBoolean(false),
                Json.number(n, "base_shift", 0.5),
                Json.number(n, "max_shift", 1.15),
                Json.integer(n, "base_image_seq_len", 256),
                Json.integer(n, "max_image_seq_len", 4096),
                terminal.isNumber() ? terminal.asDouble() : null,
                !"linear".equals(n.path("time_shift_type").asText("exponential")));
    }

    public SchedulerConfig withShift(double newShift) {
        return new SchedulerConfig(numTrainTimesteps, newShift, useDynamicShifting, baseShift, maxShift,
                baseImageSeqLen, maxImageSeqLen, shiftTerminal, exponentialTimeShift);
    }
}
