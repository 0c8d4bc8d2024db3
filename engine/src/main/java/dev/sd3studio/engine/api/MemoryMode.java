package dev.sd3studio.engine.api;

/** How long component sessions live. */
public enum MemoryMode {
    /** Sessions stay loaded between generations; unchanged prompts reuse their embeddings. */
    RESIDENT,
    /** Each component is loaded just before its stage and closed right after: lowest peak memory. */
    OFFLOAD
}
