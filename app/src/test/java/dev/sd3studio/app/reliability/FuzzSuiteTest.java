package dev.sd3studio.app.reliability;

import dev.sd3studio.app.cli.Cli;
import dev.sd3studio.app.gpu.ArchiveFuzz;
import dev.sd3studio.app.gallery.ExportFormat;
import dev.sd3studio.app.gallery.Exporter;
import dev.sd3studio.app.gallery.GalleryItem;
import dev.sd3studio.app.gallery.GalleryStore;
import dev.sd3studio.app.gallery.PngFiles;
import dev.sd3studio.app.settings.Settings;
import dev.sd3studio.app.settings.SettingsStore;
import dev.sd3studio.engine.Sd3Engine;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.api.Sd3Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A fuzz-style reliability suite over what users hand the app: bad images, broken model folders,
 * odd requests and command lines, damaged settings and gallery files, and kill -9 during gallery
 * writes. Each case counts as handled (a result, or one named error and nothing written), crashed
 * (an internal exception, a multi-line or unexpected error, a corrupt file) or lost (a picture or
 * the user's settings gone). Hostile downloads, archives, picture metadata and model headers have
 * their own classes (a Hub on the loopback interface, the GPU pack's extractor, the studio's "load
 * its parameters", the engine's header readers). Seeded, so a failure reproduces; prints its figures.
 */
class FuzzSuiteTest {
    private static final Path DEMO = CliProcess.DEMO_MODEL;
    private static final long SEED = 13;

    @Test
    void everythingIsHandledNothingCrashesNothingIsLost(@TempDir Path tmp) throws Exception {
        List<FuzzTally> tallies = List.of(badImages(tmp.resolve("images")), modelFolders(tmp.resolve("models")),
                requests(tmp.resolve("requests")), commandLines(tmp.resolve("argv")),
                settingsFiles(tmp.resolve("settings")), galleryFiles(tmp.resolve("gallery")),
                killedWrites(tmp.resolve("kills")), HostileHubFuzz.run(dir(tmp, "hub"), SEED),
                ArchiveFuzz.run(dir(tmp, "archives"), SEED), MetadataBombFuzz.run(dir(tmp, "metadata"), SEED),
                HeaderFuzz.onnx(dir(tmp, "onnx"), DEMO, SEED), HeaderFuzz.safetensors(dir(tmp, "safetensors"), SEED));
        StringBuilder table = new StringBuilder(String.format("%n%-26s %6s %8s %8s %5s%n", "category", "tried",
                "handled", "crashed", "lost"));
        int[] sum = new int[4];
        for (FuzzTally t : tallies) {
            table.append(String.format("%-26s %6d %8d %8d %5d%n", t.category, t.tried, t.handled, t.crashed, t.lost));
            sum[0] += t.tried;
            sum[1] += t.handled;
            sum[2] += t.crashed;
            sum[3] += t.lost;
            t.notes.forEach(n -> table.append("    ").append(n).append('\n'));
        }
        table.append(String.format("%-26s %6d %8d %8d %5d%n", "total", sum[0], sum[1], sum[2], sum[3]));
        System.out.println("reliability fuzz suite (seed " + SEED + ")" + table);
        assertTrue(sum[2] == 0 && sum[3] == 0, table.toString());
    }

    // ---- bad images for --init-image and the studio's drop ----------------------------------------

    private FuzzTally badImages(Path dir) throws Exception {
        FuzzTally t = new FuzzTally("bad images");
        Files.createDirectories(dir);
        Random r = new Random(SEED);
        byte[] png = encode(gradient(48, 32), "png");
        byte[] jpg = encode(gradient(48, 32), "jpg");
        List<byte[]> cases = new ArrayList<>();
        for (byte[] good : List.of(png, jpg)) {
            for (int i = 0; i < 12; i++) {
                cases.add(Arrays.copyOf(good, r.nextInt(good.length)));
            }
            for (int i = 0; i < 12; i++) {
                byte[] b = good.clone();
                for (int k = 0; k < 1 + r.nextInt(8); k++) {
                    b[r.nextInt(Math.min(b.length, 200))] ^= (byte) (1 + r.nextInt(255));
                }
                cases.add(b);
            }
        }
        for (int i = 0; i < 6; i++) {
            byte[] b = new byte[r.nextInt(4000)];
            r.nextBytes(b);
            cases.add(b);
        }
        cases.add(new byte[0]);
        cases.add(hugeHeaderPng());
        for (int i = 0; i < cases.size(); i++) {
            Path f = Files.write(dir.resolve("case" + i + (i % 2 == 0 ? ".png" : ".jpg")), cases.get(i));
            try {
                RgbImage image = Sd3Engine.loadImage(f);
                if (image.width() > 0) {
                    t.handled();
                } else {
                    t.crashed("case " + i + " loaded an empty picture");
                }
            } catch (EngineException e) {
                t.handled();
            } catch (Throwable e) {
                t.crashed("image case " + i + ": " + e);
            }
        }
        return t;
    }

    // ---- broken model folders, through the command line ------------------------------------------

    private FuzzTally modelFolders(Path dir) throws Exception {
        FuzzTally t = new FuzzTally("model folders");
        Map<String, byte[]> mutations = new java.util.LinkedHashMap<>();
        byte[] decoder = Files.readAllBytes(DEMO.resolve("vae_decoder/model.onnx"));
        mutations.put("vae_decoder/model.onnx=garbage", "not a model".getBytes());
        mutations.put("vae_decoder/model.onnx=half", Arrays.copyOf(decoder, decoder.length / 2));
        mutations.put("vae_decoder/model.onnx=empty", new byte[0]);
        mutations.put("vae_decoder/model.onnx=text_encoder", Files.readAllBytes(DEMO.resolve("text_encoder/model.onnx")));
        mutations.put("text_encoder/model.onnx=vae_decoder", decoder);
        mutations.put("transformer/model.onnx=missing", null);
        mutations.put("transformer/config.json=invalid", "{\"patch_size\": ".getBytes());
        mutations.put("transformer/config.json=patch0", "{\"patch_size\": 0}".getBytes());
        mutations.put("transformer/config.json=sample0", "{\"sample_size\": 0}".getBytes());
        mutations.put("vae_decoder/config.json=blocks32", ("{\"block_out_channels\": [" + "8,".repeat(31) + "8]}").getBytes());
        mutations.put("vae_decoder/config.json=scaling0", "{\"scaling_factor\": 0}".getBytes());
        mutations.put("scheduler/scheduler_config.json=invalid", "{".getBytes());
        mutations.put("tokenizer/vocab.json=invalid", "[".getBytes());
        mutations.put("tokenizer_3/tokenizer.json=missing", null);
        int i = 0;
        for (Map.Entry<String, byte[]> m : mutations.entrySet()) {
            String rel = m.getKey().substring(0, m.getKey().indexOf('='));
            Path model = ModelCopies.withFile(DEMO, dir.resolve("m" + i++), rel, m.getValue());
            Path out = Files.createDirectories(dir.resolve("out" + i)).resolve("x.png");
            try {
                CliRun run = cli("generate", "--model", model.toString(), "--prompt", "a red circle", "--steps", "1",
                        "--seed", "1", "--out", out.toString());
                judgeCli(t, m.getKey(), run, out);
            } finally {
                ModelCopies.unlink(model);
            }
        }
        return t;
    }

    // ---- requests straight to the engine ----------------------------------------------------------

    private FuzzTally requests(Path dir) throws Exception {
        FuzzTally t = new FuzzTally("requests (engine)");
        Random r = new Random(SEED);
        int[] ints = {Integer.MIN_VALUE, -16, -1, 0, 1, 2, 15, 16, 17, 48, 64, 1000, 1001, 100_000, Integer.MAX_VALUE};
        double[] doubles = {Double.NaN, Double.NEGATIVE_INFINITY, -1, 0, 1e-9, 0.5, 1, 7, 1e308, Double.POSITIVE_INFINITY};
        String[] prompts = {"", " ", "a red circle", "\u0000\u001b[31m", "\uD800", "a".repeat(20_000), "é".repeat(3000)};
        try (Sd3Generator g = Sd3Engine.open(DEMO, EngineOptions.defaults())) {
            for (int i = 0; i < 60; i++) {
                int steps = r.nextInt(3) == 0 ? ints[r.nextInt(ints.length)] : 1 + r.nextInt(2);
                GenerationRequest.Builder b = GenerationRequest.builder(prompts[r.nextInt(prompts.length)])
                        .optSteps(steps).optSeed(r.nextLong()).optPreviewEvery(0);
                if (r.nextBoolean()) {
                    b.optSize(pickSize(r, ints), pickSize(r, ints));
                }
                if (r.nextBoolean()) {
                    b.optGuidance(doubles[r.nextInt(doubles.length)]);
                }
                if (r.nextInt(3) == 0) {
                    b.optShift(doubles[r.nextInt(doubles.length)]);
                }
                if (r.nextInt(3) == 0) {
                    b.optImagesPerPrompt(ints[r.nextInt(ints.length)]);
                }
                if (r.nextInt(3) == 0) {
                    b.optMaxSequenceLength(ints[r.nextInt(ints.length)]);
                }
                if (r.nextInt(4) == 0) {
                    b.optInitImage(gradient(40, 24)).optStrength(doubles[r.nextInt(doubles.length)]);
                }
                GenerationRequest req = b.build();
                if (req.steps() > 2 && req.steps() <= 1000) {
                    b.optSteps(2); // a valid long run proves nothing more, only costs time
                    req = b.build();
                }
                try {
                    g.generate(req, ProgressListener.NONE, CancelToken.none());
                    t.handled();
                } catch (EngineException e) {
                    if (e.kind() == EngineException.Kind.INTERNAL || e.getMessage() == null || e.getMessage().isBlank()) {
                        t.crashed("request " + i + ": " + e);
                    } else {
                        t.handled();
                    }
                } catch (Throwable e) {
                    t.crashed("request " + i + ": " + e);
                }
            }
        }
        return t;
    }

    private static int pickSize(Random r, int[] ints) {
        return r.nextBoolean() ? 16 * (1 + r.nextInt(6)) : ints[r.nextInt(ints.length)];
    }

    // ---- command lines: garbage values, refused before the model loads -----------------------------

    private FuzzTally commandLines(Path dir) throws Exception {
        FuzzTally t = new FuzzTally("command lines");
        Random r = new Random(SEED);
        String[] options = {"--width", "--height", "--steps", "--guidance", "--shift", "--seed", "--images-per-prompt",
                "--max-sequence-length", "--clip-skip", "--strength", "--device", "--latents", "--init-image",
                "--encoder-noise", "--out-npy", "--out"};
        String[] values = {"", "-1", "abc", "1e3", "NaN", "2147483648", "99999999999999999999", "/dev/null", ".",
                "\u0000", "--", "cuda:99", "0x10", " 7 ", "-9223372036854775809", "/nonexistent/x.npy"};
        for (int i = 0; i < 40; i++) {
            List<String> args = new ArrayList<>(List.of("generate", "--model", DEMO.toString(), "--prompt", "x"));
            for (int k = 0; k < 1 + r.nextInt(3); k++) {
                args.add(options[r.nextInt(options.length)]);
                args.add(values[r.nextInt(values.length)]);
            }
            // the output folder does not exist: every case ends before the model loads
            Path out = dir.resolve("missing").resolve("o" + i + ".png");
            args.addAll(List.of("--out", out.toString()));
            CliRun run = cli(args.toArray(String[]::new));
            if (run.exit == 0) {
                t.crashed("argv " + i + " succeeded into a missing folder: " + args);
            } else {
                judgeCli(t, "argv " + args, run, out);
            }
        }
        return t;
    }

    // ---- damaged settings files -------------------------------------------------------------------

    private FuzzTally settingsFiles(Path dir) throws Exception {
        FuzzTally t = new FuzzTally("settings files");
        Random r = new Random(SEED);
        Settings mine = new Settings(new Settings.Window(1, 2, 900, 700, true, 0.3, 0.7), "dark",
                List.of("/models/a", "/models/b"), "/models/a", "/pictures", Settings.Parameters.defaults(),
                List.of("one", "two"), Settings.Export.defaults(), java.util.Map.of("/models/a", List.of("/loras/x.safetensors:0.8")));
        Path seedDir = Files.createDirectories(dir.resolve("seed"));
        new SettingsStore(seedDir.resolve("settings.json")).save(mine);
        byte[] good = Files.readAllBytes(seedDir.resolve("settings.json"));
        List<byte[]> cases = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            cases.add(Arrays.copyOf(good, r.nextInt(good.length)));
        }
        for (int i = 0; i < 15; i++) {
            byte[] b = good.clone();
            for (int k = 0; k < 1 + r.nextInt(4); k++) {
                String noise = "{}[]\",:0a\u0000 ";
                b[r.nextInt(b.length)] = (byte) noise.charAt(r.nextInt(noise.length()));
            }
            cases.add(b);
        }
        String text = new String(good, StandardCharsets.UTF_8);
        for (String[] swap : new String[][] {{"\"dark\"", "{}"}, {"\"/pictures\"", "5"}, {"[ \"/models/a\", \"/models/b\" ]", "\"x\""},
                {"1280", "\"wide\""}, {"\"/pictures\"", "\"/a\\u0000b\""}, {"\"window\" : {", "\"window\" : 5, \"w\" : {"}}) {
            cases.add(text.replace(swap[0], swap[1]).getBytes(StandardCharsets.UTF_8));
        }
        cases.add("{\"a\":".repeat(20_000).getBytes());
        cases.add(new byte[0]);
        cases.add("null".getBytes());
        for (int i = 0; i < cases.size(); i++) {
            Path d = Files.createDirectories(dir.resolve("c" + i));
            Path file = Files.write(d.resolve("settings.json"), cases.get(i));
            SettingsStore store = new SettingsStore(file);
            try {
                Settings s = store.load();
                store.save(s); // what the studio does on close
                boolean kept = store.damage().isEmpty() ? Arrays.equals(cases.get(i), Files.readAllBytes(file))
                        || !Arrays.equals(cases.get(i), good) && sameSettings(store, file)
                        : asideHolds(d, cases.get(i));
                if (kept) {
                    t.handled();
                } else {
                    t.lost("settings case " + i + ": the original is neither kept nor equivalent");
                }
            } catch (Throwable e) {
                t.crashed("settings case " + i + ": " + e);
            }
        }
        return t;
    }

    /** An undamaged file may be rewritten (formatting), but must mean the same. */
    private static boolean sameSettings(SettingsStore store, Path file) {
        return store.damage().isEmpty() && new SettingsStore(file).load() != null;
    }

    private static boolean asideHolds(Path dir, byte[] original) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("settings-damaged-")).toList()) {
                if (Files.isRegularFile(f) && Arrays.equals(original, Files.readAllBytes(f))) {
                    return true;
                }
            }
        }
        return false;
    }

    // ---- damaged gallery files --------------------------------------------------------------------

    private FuzzTally galleryFiles(Path dir) throws Exception {
        FuzzTally t = new FuzzTally("gallery files");
        Random r = new Random(SEED);
        for (int i = 0; i < 40; i++) {
            Path g = Files.createDirectories(dir.resolve("g" + i));
            GalleryStore store = new GalleryStore(g);
            List<Path> good = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                good.add(store.add(gradient(16 + k, 16), Map.of("prompt", "good " + k)).file());
            }
            byte[] bytes = Files.readAllBytes(good.getFirst());
            byte[] bad = switch (i % 5) {
                case 0 -> Arrays.copyOf(bytes, r.nextInt(bytes.length));
                case 1 -> flip(bytes, r);
                case 2 -> random(r);
                case 3 -> hugeChunkLength(bytes, r);
                default -> new byte[0];
            };
            Files.write(g.resolve("zz-damaged-" + i + ".png"), bad);
            try {
                List<GalleryItem> items = store.load();
                List<Path> listed = items.stream().map(GalleryItem::file).toList();
                Exporter.Report report = Exporter.export(items, g.resolve("export"),
                        new Exporter.Options(ExportFormat.PNG, 0.9f, true));
                if (!listed.containsAll(good) || report.written().size() < good.size()) {
                    t.lost("gallery case " + i + ": a good picture was not listed or exported");
                } else {
                    t.handled();
                }
            } catch (Throwable e) {
                t.crashed("gallery case " + i + ": " + e);
            }
        }
        return t;
    }

    // ---- kill -9 during gallery writes ------------------------------------------------------------

    private FuzzTally killedWrites(Path dir) throws Exception {
        FuzzTally t = new FuzzTally("kill -9 during writes");
        Random r = new Random(SEED);
        for (int run = 0; run < 6; run++) {
            Path g = Files.createDirectories(dir.resolve("k" + run));
            Path childTmp = Files.createDirectories(dir.resolve("k" + run + "-tmp"));
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Djava.io.tmpdir=" + childTmp, "-cp", System.getProperty("java.class.path"),
                    GalleryWriter.class.getName(), g.toString(),
                    Long.toString(run)).redirectErrorStream(true).start();
            List<String> reported = new ArrayList<>();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream()))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        synchronized (reported) {
                            reported.add(line.strip());
                        }
                    }
                } catch (IOException e) {
                    // the child died: that is the point
                }
            });
            Thread.sleep(800 + r.nextInt(1600));
            child.destroyForcibly().waitFor();
            reader.join(5000);
            List<GalleryItem> items = new GalleryStore(g).load();
            List<String> listed = items.stream().map(i -> i.file().getFileName().toString()).toList();
            List<String> saved;
            synchronized (reported) {
                saved = List.copyOf(reported).stream().filter(s -> s.endsWith(".png")).toList();
            }
            boolean corrupt = false;
            for (GalleryItem i : items) {
                corrupt |= ImageIO.read(i.file().toFile()) == null;
            }
            long parts;
            try (Stream<Path> s = Files.list(g)) {
                parts = s.filter(p -> p.getFileName().toString().endsWith(".part")).count();
            }
            long temps;
            try (Stream<Path> s = Files.list(childTmp)) {
                temps = s.count(); // ImageIO's disk cache (imageio*.tmp) outlives a killed process
            }
            if (!listed.containsAll(saved)) {
                t.lost("kill run " + run + ": a reported save is missing");
            } else if (corrupt || parts > 0 || temps > 0) {
                t.crashed("kill run " + run + (corrupt ? ": a corrupt picture is listed"
                        : parts > 0 ? ": " + parts + " .part left" : ": " + temps + " temp file(s) left"));
            } else {
                t.handled();
            }
        }
        return t;
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static Path dir(Path tmp, String name) throws IOException {
        return Files.createDirectories(tmp.resolve(name));
    }

    private record CliRun(int exit, String err) {
    }

    private static CliRun cli(String... args) {
        StringWriter err = new StringWriter();
        int exit = Cli.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), args);
        return new CliRun(exit, err.toString());
    }

    /** Success with a file, or exit 1/2 with one "error:" line that is no internal failure, and no file. */
    private static void judgeCli(FuzzTally t, String what, CliRun run, Path out) {
        if (run.exit == 0) {
            if (Files.isRegularFile(out)) {
                t.handled();
            } else {
                t.crashed(what + ": exit 0 without a file");
            }
            return;
        }
        String err = run.err.strip();
        boolean oneLine = err.lines().count() == 1 && err.startsWith("error: ");
        boolean internal = err.contains("unexpected failure") || err.contains("Exception");
        if ((run.exit == 1 || run.exit == 2) && oneLine && !internal && !Files.exists(out)) {
            t.handled();
        } else {
            t.crashed(what + ": exit " + run.exit + ", " + err.replace('\n', '|'));
        }
    }

    private static RgbImage gradient(int w, int h) {
        float[] rgb = new float[w * h * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (i % (w * 3)) / (float) (w * 3);
        }
        return new RgbImage(w, h, rgb);
    }

    private static byte[] encode(RgbImage image, String format) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ImageIO.write(PngFiles.toBufferedImage(image), format, out);
        return out.toByteArray();
    }

    private static byte[] hugeHeaderPng() throws IOException {
        byte[] png = encode(gradient(8, 8), "png");
        java.nio.ByteBuffer.wrap(png).putInt(16, 20000).putInt(20, 20000);
        return png;
    }

    private static byte[] flip(byte[] b, Random r) {
        byte[] out = b.clone();
        for (int k = 0; k < 1 + r.nextInt(6); k++) {
            out[r.nextInt(out.length)] ^= (byte) (1 + r.nextInt(255));
        }
        return out;
    }

    private static byte[] random(Random r) {
        byte[] b = new byte[r.nextInt(3000)];
        r.nextBytes(b);
        return b;
    }

    /** A chunk length of up to 2^32-1 right after the signature. */
    private static byte[] hugeChunkLength(byte[] png, Random r) {
        byte[] out = png.clone();
        java.nio.ByteBuffer.wrap(out).putInt(33, 0x7fff0000 | r.nextInt(0xffff)).putInt(37, 0x69545874); // "iTXt"
        return out;
    }
}
