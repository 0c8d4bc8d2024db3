package dev.sd3studio.app.reliability;

import dev.sd3studio.app.InstalledNatives;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code sd3studio} in a separate JVM, the way the launcher does, with a private home, cache
 * and temp folder, so a test can see everything the process leaves behind and how it exits.
 */
final class CliProcess {
    static final Path DEMO_MODEL = Path.of("../assets/models/sd3-demo").toAbsolutePath().normalize();
    /**
     * ONNX Runtime's libraries as the build unpacked them for this platform (app/pom.xml,
     * unpack-ort-natives; surefire names the folder to the test JVM): handed to the process as
     * {@code ./sd3studio} hands them, so it loads them from there. Null on a platform the build
     * unpacks nothing for.
     */
    static final String NATIVES = System.getProperty("onnxruntime.native.path");

    record Result(int exit, String err, Path home, Path tmp) {
    }

    private CliProcess() {
    }

    /** {@code sandbox} gets {@code home/} and {@code tmp/}; the process runs with both as its own. */
    static Result run(Path sandbox, String... args) throws IOException, InterruptedException {
        Path home = Files.createDirectories(sandbox.resolve("home"));
        Path tmp = Files.createDirectories(sandbox.resolve("tmp"));
        Process p = start(home, tmp, args);
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("sd3studio " + String.join(" ", args) + " did not finish in 180 s");
        }
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.exitValue(), err, home, tmp);
    }

    static Process start(Path home, Path tmp, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xss4m", "-Djava.io.tmpdir=" + tmp, "-Duser.home=" + home,
                "-Dai.djl.offline=true", "-Djava.awt.headless=true"));
        if (NATIVES != null) {
            cmd.add("-D" + InstalledNatives.PROPERTY + "=" + NATIVES);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.sd3studio.app.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("HOME", home.toString());
        pb.environment().put("XDG_CACHE_HOME", home.resolve(".cache").toString());
        pb.environment().remove("ORT_DISABLE_TELEMETRY");
        pb.environment().put("TMPDIR", tmp.toString());
        return pb.start();
    }

    /** Every file and folder under {@code dir}, relative, sorted. */
    static List<String> tree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            return walk.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }
}
