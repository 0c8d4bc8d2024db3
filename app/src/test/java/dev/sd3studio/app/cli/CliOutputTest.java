package dev.sd3studio.app.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * "No file on error" for every output, and destinations that are not regular files are refused
 * before any work and never replaced. Cases from the reliability report (D5, D7, D8, D13).
 */
class CliOutputTest {
    private static final Path DEMO = Path.of("../assets/models/sd3-demo").toAbsolutePath().normalize();

    private record Run(int exit, String err, long millis) {
    }

    private static Run generate(Path out, String... extra) {
        StringWriter err = new StringWriter();
        List<String> args = new java.util.ArrayList<>(List.of("generate", "--model", DEMO.toString(), "--prompt",
                "a red circle", "--steps", "1", "--seed", "1", "--out", out.toString()));
        args.addAll(List.of(extra));
        long t0 = System.nanoTime();
        int exit = Cli.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), args.toArray(String[]::new));
        return new Run(exit, err.toString(), (System.nanoTime() - t0) / 1_000_000);
    }

    @Test
    void aFifoASymlinkAFolderDotAndEmptyAreRefusedUpFrontAndLeftAlone(@TempDir Path tmp) throws Exception {
        Path fifo = tmp.resolve("pipe.png");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        Path target = Files.writeString(tmp.resolve("target.txt"), "keep");
        Path link = Files.createSymbolicLink(tmp.resolve("link.png"), target);
        Path folder = Files.createDirectories(tmp.resolve("folder.png"));
        for (String out : new String[] {fifo.toString(), link.toString(), folder.toString(), ".", ""}) {
            Run r = generate(Path.of(out));
            assertEquals(Cli.EXIT_USAGE, r.exit(), "--out '" + out + "': " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().startsWith("error: --out"), r.err());
        }
        assertTrue(Files.isSymbolicLink(link) && Files.readString(target).equals("keep"));
        assertFalse(Files.isRegularFile(fifo, java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.isDirectory(folder));
        assertEquals(List.of(), parts(tmp));
    }

    @Test
    void aPathWithANulCharacterIsAUsageErrorInWords() {
        StringWriter err = new StringWriter();
        int exit = Cli.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "generate",
                "--prompt", "x", "--out", "a\u0000b.png");
        assertEquals(Cli.EXIT_USAGE, exit, err.toString());
        assertTrue(err.toString().contains("is not a valid path") && !err.toString().contains("Exception"), err.toString());
    }

    @Test
    void aFailingOutputLeavesNoneOfTheOthers(@TempDir Path tmp) throws Exception {
        Path png = tmp.resolve("b-0.png");
        Path blocked = tmp.resolve("gone");
        OutputTargets t = new OutputTargets();
        t.add(png, new byte[] {1, 2, 3});
        t.add(blocked.resolve("b-1.png"), new byte[] {4}); // its folder is missing, as if the disk had failed
        assertThrows(IOException.class, t::writeAll);
        assertFalse(Files.exists(png));
        assertEquals(List.of(), parts(tmp));
    }

    @Test
    void aNameNear255BytesWorksBecauseTheTempNameIsShortened(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("x".repeat(240) + ".png");
        Run r = generate(out);
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.isRegularFile(out));
        Run tooLong = generate(tmp.resolve("y".repeat(260) + ".png"));
        assertEquals(Cli.EXIT_USAGE, tooLong.exit(), tooLong.err());
    }

    @Test
    void tempFilesOfKilledRunsBesideTheOutputAreRemoved(@TempDir Path tmp) throws Exception {
        Process ended = new ProcessBuilder("true").start();
        ended.waitFor();
        Path left = Files.write(tmp.resolve(".x.png." + ended.pid() + "-3.part"), new byte[] {1});
        Run r = generate(tmp.resolve("x.png"));
        assertEquals(0, r.exit(), r.err());
        assertFalse(Files.exists(left));
        assertEquals(List.of(), parts(tmp));
    }

    @Test
    void aBatchAndItsNpyAreWrittenTogether(@TempDir Path tmp) throws Exception {
        Run r = generate(tmp.resolve("b.png"), "--images-per-prompt", "2", "--out-npy", tmp.resolve("b.npy").toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.isRegularFile(tmp.resolve("b-0.png")) && Files.isRegularFile(tmp.resolve("b-1.png"))
                && Files.isRegularFile(tmp.resolve("b.npy")));
        assertEquals(List.of(), parts(tmp));
    }

    @Test
    void anExistingNumberedFileThatIsAFolderIsRefusedBeforeTheBatchRuns(@TempDir Path tmp) throws Exception {
        Files.createDirectories(tmp.resolve("b-1.png"));
        Run r = generate(tmp.resolve("b.png"), "--images-per-prompt", "2");
        assertEquals(Cli.EXIT_USAGE, r.exit(), r.err());
        assertFalse(Files.exists(tmp.resolve("b-0.png")));
    }

    private static List<Path> parts(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".part")).toList();
        }
    }
}
