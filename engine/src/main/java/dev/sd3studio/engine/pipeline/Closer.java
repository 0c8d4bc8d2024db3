package dev.sd3studio.engine.pipeline;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Closes what was opened so far, in reverse order, unless released: assembling an engine from
 * several native parts leaks nothing when a later part fails.
 */
final class Closer implements AutoCloseable {
    private final Deque<AutoCloseable> opened = new ArrayDeque<>();
    private boolean released;

    <T extends AutoCloseable> T add(T resource) {
        if (resource != null) {
            opened.push(resource);
        }
        return resource;
    }

    void release() {
        released = true;
    }

    @Override
    public void close() {
        if (released) {
            return;
        }
        while (!opened.isEmpty()) {
            try {
                opened.pop().close();
            } catch (Exception ignored) {
                // keep closing the rest
            }
        }
    }
}
