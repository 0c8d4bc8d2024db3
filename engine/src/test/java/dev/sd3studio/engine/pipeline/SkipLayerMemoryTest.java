package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.ModelCopies;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.MemoryMode;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.model.Component;
import dev.sd3studio.engine.model.ModelFolder;
import dev.sd3studio.engine.runtime.OnnxModel;
import dev.sd3studio.engine.runtime.OnnxTestModels;
import dev.sd3studio.engine.runtime.OrtRuntime;
import dev.sd3studio.engine.runtime.SkipLayerGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The transformer rewired for skip-layer guidance holds its weights once: resident memory with SLG on
 * is that with SLG off, not that plus another copy of the weights. Measured on a synthetic MMDiT-named
 * chain with 96 MiB of weights (the tiny fixtures' 0.4 MB would drown in the measuring noise). With the
 * plain session kept open beside the rewired one this measured 220 MiB on against 121 MiB off.
 */
class SkipLayerMemoryTest {
    private static final int BLOCKS = 6;
    private static final int WIDTH = 2048;
    private static final long WEIGHTS = (long) BLOCKS * WIDTH * WIDTH * Float.BYTES;

    @TempDir
    Path tmp;

    /**
     * Resident memory is a property of the whole process, and a test JVM that has run a hundred other
     * tests frees their leftovers while this one measures (a -130 MiB "weights" reading once). So the
     * measuring runs in a fresh JVM of its own, which prints what it saw.
     */
    @Test
    void residentMemoryWithSlgOnDoesNotGrowByTheWeights() throws Exception {
        assertTrue(Files.isReadable(Path.of("/proc/self/status")), "resident memory is read from Linux's /proc");
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-Dai.djl.offline=true",
                "-Dsd3.fixtures=" + Fixtures.root(), "-cp", classPath, SkipLayerMemoryTest.class.getName(),
                tmp.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        String[] figures = out.lines().filter(l -> l.startsWith("slg-memory ")).findFirst()
                .orElseThrow(() -> new AssertionError("no figures from the measuring JVM:\n" + out)).split(" ");
        long slgOff = Long.parseLong(figures[1]);
        long slgOn = Long.parseLong(figures[2]);
        System.out.println("resident over the baseline: SLG off " + mib(slgOff) + ", on " + mib(slgOn)
                + " (weights " + mib(WEIGHTS) + ")");
        assertTrue(slgOff > WEIGHTS / 2, "the measure sees the weights: " + mib(slgOff));
        assertTrue(slgOn < slgOff + WEIGHTS / 2, "SLG on holds " + mib(slgOn) + ", off " + mib(slgOff)
                + ", weights " + mib(WEIGHTS) + ": a second copy of the weights");
    }

    /** The measuring JVM: prints {@code slg-memory OFF ON} (bytes over the baseline). */
    public static void main(String[] args) throws Throwable {
        Path model = ModelCopies.withFile(Fixtures.model("tiny-sd3"), Path.of(args[0]).resolve("big"),
                "transformer/model.onnx", null);
        try {
            OnnxTestModels.blockChain(model.resolve("transformer/model.onnx"), BLOCKS, WIDTH);
            Timings timings = new Timings();
            try (ComponentSessions sessions = new ComponentSessions(ModelFolder.detect(model), new OrtRuntime(Device.CPU),
                    MemoryMode.RESIDENT)) {
                System.gc();
                long before = residentBytes();
                int liveBefore = OrtRuntime.liveSessions();

                OnnxModel plain = sessions.get(Component.TRANSFORMER, m -> m, ProgressListener.NONE, timings);
                float[] exported = run(plain, null);
                long slgOff = residentBytes() - before;

                sessions.useSkippableTransformer(true);
                OnnxModel rewired = sessions.get(Component.TRANSFORMER, m -> m, ProgressListener.NONE, timings);
                assertArrayEquals(exported, run(rewired, new float[BLOCKS]), 1e-6f);
                float[] skipLast = new float[BLOCKS];
                skipLast[BLOCKS - 1] = 1;
                assertFalse(java.util.Arrays.equals(exported, run(rewired, skipLast)));
                long slgOn = residentBytes() - before;
                assertEquals(liveBefore + 1, OrtRuntime.liveSessions(), "one transformer session at a time");
                System.out.println("slg-memory " + slgOff + " " + slgOn);
            }
        } finally {
            ModelCopies.unlink(model);
        }
    }

    /** One run on a fixed input; {@code skip} feeds the rewired graph's block flags. */
    private static float[] run(OnnxModel model, float[] skip) throws Exception {
        float[] x = new float[WIDTH];
        for (int i = 0; i < WIDTH; i++) {
            x[i] = (i % 11 - 5) * 0.1f;
        }
        Map<String, FloatTensor> in = new HashMap<>(Map.of("hidden_states", new FloatTensor(new long[] {1, WIDTH}, x)));
        if (skip != null) {
            in.put(SkipLayerGraph.INPUT, new FloatTensor(new long[] {BLOCKS}, skip));
        }
        return model.run(in, Map.of(), List.of("out_hidden_states"), CancelToken.none()).get("out_hidden_states").data();
    }

    /**
     * Resident memory in use: first glibc's {@code malloc_trim} hands back what freed allocations left
     * mapped (ORT's transient load copies), so the reading is what the sessions hold, not their peak.
     */
    private static long residentBytes() throws Throwable {
        Linker linker = Linker.nativeLinker();
        var trim = linker.defaultLookup().find("malloc_trim");
        if (trim.isPresent()) {
            linker.downcallHandle(trim.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG))
                    .invoke(0L);
        }
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new AssertionError("no VmRSS in /proc/self/status");
    }

    private static String mib(long bytes) {
        return (bytes >> 20) + " MiB";
    }
}
