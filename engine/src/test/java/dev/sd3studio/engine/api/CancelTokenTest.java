package dev.sd3studio.engine.api;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** cancel() only sets the token: a failing hook neither escapes nor stops the other hooks. */
class CancelTokenTest {
    @Test
    void everyHookRunsAndCancelNeverThrows() {
        CancelToken token = new CancelToken();
        List<String> ran = new ArrayList<>();
        token.onCancel(() -> ran.add("first"));
        token.onCancel(() -> {
            throw new IllegalStateException("Trying to use a closed RunOptions");
        });
        token.onCancel(() -> ran.add("third"));
        assertDoesNotThrow(token::cancel);
        assertTrue(token.isCancelled());
        assertEquals(List.of("first", "third"), ran);
    }

    @Test
    void aHookAddedAfterCancelRunsAtOnceAndARemovedOneNever() {
        CancelToken token = new CancelToken();
        List<String> ran = new ArrayList<>();
        token.onCancel(() -> ran.add("removed")).close();
        token.cancel();
        token.onCancel(() -> ran.add("late"));
        assertDoesNotThrow(() -> token.onCancel(() -> {
            throw new IllegalStateException("boom");
        }));
        assertEquals(List.of("late"), ran);
    }
}
