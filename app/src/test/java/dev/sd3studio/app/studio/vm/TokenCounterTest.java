package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.FakeFactory;
import dev.sd3studio.app.studio.Studio;
import dev.sd3studio.app.studio.task.TaskRunner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Token counting waits for a pause in typing, counts only the newest text, and bisects one encoder at a time. */
class TokenCounterTest {
    @TempDir
    Path tmp;
    FakeFactory engine = new FakeFactory();
    ManualRunner runner = new ManualRunner();
    StudioViewModel vm;

    /**
     * Work runs at once unless its task is the one named in {@code hold}; delayed actions wait until
     * the test lets time pass.
     */
    static final class ManualRunner implements TaskRunner {
        final List<Runnable> timers = new ArrayList<>();
        final List<Runnable> held = new ArrayList<>();
        String hold;

        @Override
        public <T> void run(String name, Callable<T> work, Consumer<? super T> ok, Consumer<Throwable> failed) {
            Runnable r = () -> {
                try {
                    ok.accept(work.call());
                } catch (Exception e) {
                    failed.accept(e);
                }
            };
            if (name.equals(hold)) {
                held.add(r);
            } else {
                r.run();
            }
        }

        @Override
        public void ui(Runnable action) {
            action.run();
        }

        @Override
        public Runnable later(Duration delay, Runnable action) {
            timers.add(action);
            return () -> timers.remove(action);
        }

        void pass() {
            List<Runnable> due = List.copyOf(timers);
            timers.clear();
            due.forEach(Runnable::run);
        }

        @Override
        public void close() {
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        Path model = Files.createDirectories(tmp.resolve("fake"));
        vm = Studio.create(new AppDirs(tmp.resolve("c"), tmp.resolve("d")), engine, runner, Optional.of(model));
    }

    @Test
    void typingCountsOnceAfterThePauseWithTheNewestText() {
        int before = engine.singleTokenizeCalls.get();
        for (String s : List.of("a", "a b", "a b c", "a b c d")) {
            vm.prompt().promptProperty().set(s);
        }
        assertEquals(before, engine.singleTokenizeCalls.get(), "nothing is counted while typing");
        assertEquals(1, runner.timers.size(), "each keystroke replaces the pending count");
        runner.pass();
        assertEquals(before + 3, engine.singleTokenizeCalls.get(), "one count: each of the three tokenizers once");
        assertEquals(6, vm.prompt().tokens().getFirst().count(), "4 words + BOS/EOS");
    }

    @Test
    void editsDuringACountDiscardItsAnswerAndCountTheNewestNext() {
        vm.prompt().promptProperty().set("one");
        runner.hold = "tokenize";
        runner.pass();
        assertEquals(1, runner.held.size());
        vm.prompt().promptProperty().set("one two three");
        runner.pass(); // the pause ends while the first count still runs: no second native count beside it
        assertEquals(1, runner.held.size());
        runner.hold = null;
        runner.held.removeFirst().run();
        assertEquals(5, vm.prompt().tokens().getFirst().count(), "the newest text, not the stale answer");
    }

    @Test
    void findingTheCutBisectsOneEncoderNotAllThree() {
        vm.prompt().promptProperty().set("word ".repeat(300).trim());
        int full = engine.fullTokenizeCalls.get();
        int single = engine.singleTokenizeCalls.get();
        runner.pass();
        assertEquals(full, engine.fullTokenizeCalls.get(), "no call runs all three tokenizers");
        int bisection = (int) Math.ceil(Math.log(1500) / Math.log(2)) + 1;
        int calls = engine.singleTokenizeCalls.get() - single;
        assertTrue(calls > 10 && calls <= 3 * (1 + bisection), "three counts and three bisections, got " + calls);
        assertTrue(vm.prompt().tokens().stream().allMatch(TokenInfo::truncated));
    }
}
