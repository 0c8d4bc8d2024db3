package dev.sd3studio.app.reliability;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A CLI run, in its own process as users start it, leaves nothing but its picture: no ONNX Runtime
 * telemetry (ORT 1.29 writes {@code ~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db}
 * and a device id unless told not to), no {@code onnxruntime-java*} folder in the temp directory,
 * not even when the process is killed.
 */
class NothingLeftBehindTest {
    @Test
    void aGenerationLeavesNoTelemetryAndNoTempFolder(@TempDir Path sandbox) throws Exception {
        Path out = Files.createDirectories(sandbox.resolve("out")).resolve("x.png");
        CliProcess.Result r = CliProcess.run(sandbox, "generate", "--model", CliProcess.DEMO_MODEL.toString(),
                "--prompt", "a red circle", "--steps", "2", "--seed", "1", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.isRegularFile(out));
        assertEquals(List.of(), CliProcess.tree(r.home()).stream().filter(p -> !isLibraryCache(p)).toList(),
                "left in the user's home (telemetry?)");
        assertEquals(List.of(), CliProcess.tree(r.tmp()), "left in the temp folder");
    }

    /**
     * Killed mid-generation (the OOM killer, a closed terminal's SIGKILL): ORT used to leave its
     * {@code onnxruntime-java*} folder with 31 MB of libraries, 600 MB once CUDA was used, at every
     * such start. Loaded from the unpacked folder, as {@code ./sd3studio} does, it leaves nothing.
     */
    @Test
    void aKilledGenerationLeavesNoTempFolder(@TempDir Path sandbox) throws Exception {
        assertNotNull(CliProcess.NATIVES, "the build unpacks ONNX Runtime's libraries and surefire names them");
        Path home = Files.createDirectories(sandbox.resolve("home"));
        Path tmp = Files.createDirectories(sandbox.resolve("tmp"));
        Path previews = sandbox.resolve("previews");
        Process p = CliProcess.start(home, tmp, "generate", "--model", CliProcess.DEMO_MODEL.toString(),
                "--prompt", "a red circle", "--steps", "500", "--seed", "1", "--preview-dir", previews.toString(),
                "--out", sandbox.resolve("x.png").toString());
        try {
            // a step's preview on disk: ONNX Runtime is loaded and running
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!hasFiles(previews) && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(hasFiles(previews) && p.isAlive(), "killed while generating");
        } finally {
            p.destroyForcibly().waitFor();
        }
        assertEquals(137, p.exitValue(), "SIGKILL");
        assertEquals(List.of(), CliProcess.tree(tmp), "left in the temp folder by a killed process");
    }

    /** A listing, not a walk: the running process renames its .part files meanwhile, and a walk stats each entry. */
    private static boolean hasFiles(Path dir) throws java.io.IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (var entries = Files.list(dir)) {
            return entries.findAny().isPresent();
        }
    }

    /**
     * DJL keeps its tokenizer library in {@code ~/.djl.ai} and JNA an empty {@code ~/.cache/JNA/temp}:
     * native-library caches reused by every run, holding nothing about the user or the run.
     */
    private static boolean isLibraryCache(String relative) {
        return relative.startsWith(".djl.ai") || relative.equals(".cache") || relative.startsWith(".cache/JNA");
    }

    /** ORT's telemetry start-up recursed over the command line: 14.5 KB of arguments ended in SIGSEGV. */
    @Test
    void aFifteenKilobytePromptDoesNotCrashTheProcess(@TempDir Path sandbox) throws Exception {
        Path out = Files.createDirectories(sandbox.resolve("out")).resolve("long.png");
        CliProcess.Result r = CliProcess.run(sandbox, "generate", "--model", CliProcess.DEMO_MODEL.toString(),
                "--prompt", "a".repeat(15_000), "--negative", "b".repeat(8_000), "--steps", "1", "--seed", "1",
                "--out", out.toString());
        assertEquals(0, r.exit(), "exit " + r.exit() + " (139 = SIGSEGV): " + r.err());
        assertTrue(Files.isRegularFile(out));
    }

    /** ONNX Runtime's own log lines (ANSI-coloured, with source file names) made some errors three lines long. */
    @Test
    void aRuntimeErrorInsideOnnxRuntimeIsOneLine(@TempDir Path sandbox) throws Exception {
        java.util.Map<String, byte[]> removed = new java.util.HashMap<>();
        removed.put("transformer/config.json", null);
        removed.put("vae_decoder/config.json", null);
        Path model = ModelCopies.withFiles(CliProcess.DEMO_MODEL, sandbox.resolve("model"), removed);
        try {
            Path out = Files.createDirectories(sandbox.resolve("out")).resolve("x.png");
            CliProcess.Result r = CliProcess.run(sandbox, "generate", "--model", model.toString(), "--prompt", "x",
                    "--steps", "1", "--seed", "1", "--out", out.toString());
            assertEquals(1, r.exit(), r.err());
            // a "note:" about the model (here: the size it was trained at) may come first; the error is one line
            List<String> lines = r.err().strip().lines().filter(l -> !l.startsWith("note: ")).toList();
            assertEquals(1, lines.size(), r.err());
            assertTrue(lines.getFirst().startsWith("error: "), r.err());
        } finally {
            ModelCopies.unlink(model);
        }
    }
}
