package dev.sd3studio.app.reliability;

import dev.sd3studio.app.gallery.FileHashes;
import dev.sd3studio.app.gallery.MaskBombs;
import dev.sd3studio.app.gallery.PngFiles;
import dev.sd3studio.app.gallery.PngMetadata;
import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.FakeFactory;
import dev.sd3studio.app.studio.Studio;
import dev.sd3studio.app.studio.task.TaskRunner;
import dev.sd3studio.app.studio.vm.LoraListViewModel;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import dev.sd3studio.engine.api.RgbImage;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.zip.CRC32;
import java.util.zip.DeflaterOutputStream;

/**
 * Pictures whose metadata is hostile, dropped on the studio and "load its parameters" accepted, as a
 * user would: mask bombs of several sizes, oversized, compressed and garbled text chunks, huge or
 * nonsensical recorded numbers, LoRA records naming paths and garbage. Each must end in the
 * parameters loaded or a message, without an unchecked exception, within bounded time and
 * allocation, and no LoRA may come from anywhere but the user's own LoRA folder.
 */
final class MetadataBombFuzz {
    private static final long MAX_ALLOCATED = 512L << 20; // a legitimate 4096² mask is 200 MB of floats
    private static final long MAX_MILLIS = 10_000;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private MetadataBombFuzz() {
    }

    /** Runs each task on the caller's thread and remembers what escaped it unchecked. */
    private static final class InlineRunner implements TaskRunner {
        final List<Throwable> escaped = new ArrayList<>();

        @Override
        public <T> void run(String name, Callable<T> work, Consumer<? super T> ok, Consumer<Throwable> failed) {
            T result;
            try {
                result = work.call();
            } catch (RuntimeException | Error e) {
                escaped.add(e);
                failed.accept(e);
                return;
            } catch (Exception e) {
                failed.accept(e);
                return;
            }
            try {
                ok.accept(result);
            } catch (RuntimeException | Error e) {
                escaped.add(e);
            }
        }

        @Override
        public void ui(Runnable action) {
            action.run();
        }

        @Override
        public Runnable later(Duration delay, Runnable action) {
            return () -> { };
        }

        @Override
        public void close() {
        }
    }

    static FuzzTally run(Path dir, long seed) throws Exception {
        FuzzTally t = new FuzzTally("metadata bombs");
        Random r = new Random(seed);
        Path mine = Files.createDirectories(dir.resolve("my-loras"));
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        byte[] loraBytes = new byte[64];
        r.nextBytes(loraBytes);
        Path myLora = Files.write(mine.resolve("style.safetensors"), loraBytes);
        Path stranger = Files.write(elsewhere.resolve("stranger.safetensors"), loraBytes);
        String sha = FileHashes.shared().sha256(myLora);

        List<Map.Entry<String, byte[]>> cases = new ArrayList<>();
        Map<String, String> base = new LinkedHashMap<>(Map.of("prompt", "a red circle", "steps", "2", "guidance", "4.0",
                "width", "64", "height", "64", "seed", "7", "image_to_image", "true", "strength", "0.6", "model", "x"));
        int[][] bombs = {{16000, 16000}, {4097, 16}, {16, 100_000}, {5000, 5000}, {2048, 2048}, {65, 64}, {1, 1}};
        for (int[] b : bombs) {
            Map<String, String> m = new LinkedHashMap<>(base);
            m.put("mask", MaskBombs.blackMask(b[0], b[1]));
            if (r.nextBoolean()) {
                m.put("width", Integer.toString(r.nextBoolean() ? 99_999 : b[0])); // a recorded size that lies too
            }
            cases.add(Map.entry("mask " + b[0] + "x" + b[1] + " (width " + m.get("width") + ")", ours(m)));
        }
        for (String garbage : new String[] {"!!!not base64", "", "iVBORw0KGgo=", MaskBombs.blackMask(64, 64).substring(0, 80),
                "A".repeat(60_000)}) {
            Map<String, String> m = new LinkedHashMap<>(base);
            m.put("mask", garbage);
            cases.add(Map.entry("mask garbage " + garbage.length(), ours(m)));
        }
        String[][] numbers = {{"width", "2147483647"}, {"height", "-5"}, {"steps", "99999999999"}, {"batch_size", "2147483647"},
                {"batch_index", "2147483646"}, {"seed", "1e99"}, {"guidance", "NaN"}, {"shift", "-Infinity"},
                {"max_sequence_length", "-1"}, {"clip_skip", "2147483647"}, {"strength", "1e308"}, {"width", "0x40"}};
        for (int i = 0; i < 8; i++) {
            Map<String, String> m = new LinkedHashMap<>(base);
            for (int k = 0; k < 1 + r.nextInt(4); k++) {
                String[] n = numbers[r.nextInt(numbers.length)];
                m.put(n[0], n[1]);
            }
            cases.add(Map.entry("numbers " + m, ours(m)));
        }
        String[] loras = {"/etc/passwd:1.0", "\\\\attacker\\share\\style.safetensors:0.8", "../../my-loras/style.safetensors:1",
                stranger + ":1.0 sha256=" + sha, stranger.toString(), "style.safetensors:NaN sha256=" + sha,
                "style.safetensors:1e309", ":::", "..:1.0", "x".repeat(20_000) + ":0.5", "style.safetensors:0.8 sha256=" + "f".repeat(64),
                "C:\\Users\\me\\loras\\style.safetensors:0.8", "\u0000\u001b[2J:1", "style.safetensors:0.8 sha256=" + sha};
        for (int i = 0; i < 8; i++) {
            Map<String, String> m = new LinkedHashMap<>(base);
            StringBuilder lines = new StringBuilder();
            for (int k = 0; k < 1 + r.nextInt(4); k++) {
                lines.append(loras[r.nextInt(loras.length)]).append('\n');
            }
            m.put("loras", lines.toString());
            cases.add(Map.entry("loras " + lines.toString().replace('\n', '|').substring(0, Math.min(80, lines.length())), ours(m)));
        }
        cases.add(Map.entry("our chunk of 1 MB", png(chunk("tEXt", text(PngMetadata.OURS, "prompt=" + "p".repeat(1 << 20))))));
        cases.add(Map.entry("zTXt inflating to 50 MB", png(chunk("zTXt", zText(PngMetadata.OURS, 50 << 20)))));
        cases.add(Map.entry("iTXt compressed garbage", png(chunk("iTXt", concat(PngMetadata.OURS.getBytes(StandardCharsets.ISO_8859_1),
                new byte[] {0, 1, 0, 0, 0}, "garbage, not deflate".getBytes(StandardCharsets.ISO_8859_1))))));
        cases.add(Map.entry("iTXt without separators", png(chunk("iTXt", "sd3studio".getBytes(StandardCharsets.ISO_8859_1)))));
        cases.add(Map.entry("text chunk declaring 4 GB", png(hugeLengthChunk())));
        cases.add(Map.entry("200001 empty chunks", png(manyChunks(200_001))));
        for (int i = 0; i < 4; i++) {
            byte[] b = ours(base);
            for (int k = 0; k < 1 + r.nextInt(6); k++) {
                b[33 + r.nextInt(b.length - 33)] ^= (byte) (1 + r.nextInt(255));
            }
            cases.add(Map.entry("flipped " + i, b));
        }

        InlineRunner runner = new InlineRunner();
        StudioViewModel vm = Studio.create(new AppDirs(dir.resolve("config"), dir.resolve("data")), new FakeFactory(), runner,
                Optional.of(Files.createDirectories(dir.resolve("fake-model"))));
        try {
            vm.loras().add(List.of(myLora));
            for (int i = 0; i < cases.size(); i++) {
                Path picture = Files.write(dir.resolve("picture" + i + ".png"), cases.get(i).getValue());
                vm.imports().setInitImage(new RgbImage(64, 64, new float[64 * 64 * 3]), "photo");
                runner.escaped.clear();
                long before = THREADS.getCurrentThreadAllocatedBytes();
                long start = System.nanoTime();
                vm.imports().dropFiles(List.of(picture));
                if (vm.imports().offerProperty().get() != null) {
                    vm.imports().acceptOffer(true);
                }
                long millis = (System.nanoTime() - start) / 1_000_000;
                long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
                String what = "metadata case " + i + " (" + cases.get(i).getKey() + ")";
                List<Path> listed = vm.loras().items().stream().map(LoraListViewModel.Item::file).toList();
                if (!runner.escaped.isEmpty()) {
                    t.crashed(what + ": " + runner.escaped.getFirst());
                } else if (millis > MAX_MILLIS || allocated > MAX_ALLOCATED) {
                    t.crashed(what + ": took " + millis + " ms and " + (allocated >> 20) + " MB");
                } else if (listed.stream().anyMatch(p -> !p.toAbsolutePath().normalize().getParent().equals(mine.toAbsolutePath()))) {
                    t.crashed(what + ": a LoRA outside the user's folder was taken: " + listed);
                } else {
                    t.handled();
                }
            }
        } finally {
            vm.close();
        }
        return t;
    }

    /** A picture carrying our key=value chunk, as the gallery writes it. */
    private static byte[] ours(Map<String, String> m) throws IOException {
        return PngFiles.encode(PngFiles.toBufferedImage(new RgbImage(8, 8, new float[8 * 8 * 3])),
                Map.of(PngMetadata.OURS, PngMetadata.encode(m)));
    }

    /** An 8×8 picture with {@code extra} chunks right after its header. */
    private static byte[] png(byte[] extra) throws IOException {
        byte[] plain = PngFiles.encode(PngFiles.toBufferedImage(new RgbImage(8, 8, new float[8 * 8 * 3])), Map.of());
        return concat(java.util.Arrays.copyOf(plain, 33), extra, java.util.Arrays.copyOfRange(plain, 33, plain.length));
    }

    private static byte[] chunk(String type, byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
        out.writeInt(data.length);
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeInt((int) crc.getValue());
        return bytes.toByteArray();
    }

    private static byte[] text(String keyword, String value) {
        return concat(keyword.getBytes(StandardCharsets.ISO_8859_1), new byte[] {0}, value.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** keyword, NUL, method 0, then {@code n} bytes of "prompt=aaaa…" deflated (about n/1000 bytes). */
    private static byte[] zText(String keyword, int n) throws IOException {
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (DeflaterOutputStream d = new DeflaterOutputStream(z)) {
            d.write("prompt=".getBytes(StandardCharsets.ISO_8859_1));
            byte[] a = new byte[1 << 16];
            java.util.Arrays.fill(a, (byte) 'a');
            for (int i = 0; i < n; i += a.length) {
                d.write(a);
            }
        }
        return concat(keyword.getBytes(StandardCharsets.ISO_8859_1), new byte[] {0, 0}, z.toByteArray());
    }

    /** A tEXt chunk header declaring 0xfffffff0 bytes, followed by only a few. */
    private static byte[] hugeLengthChunk() {
        byte[] b = new byte[8 + 16];
        java.nio.ByteBuffer.wrap(b).putInt(0xfffffff0).put("tEXt".getBytes(StandardCharsets.ISO_8859_1));
        return b;
    }

    private static byte[] manyChunks(int n) throws IOException {
        byte[] one = chunk("tIME", new byte[0]);
        byte[] all = new byte[one.length * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(one, 0, all, i * one.length, one.length);
        }
        return all;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
