package dev.sd3studio.app.gpu;

import dev.sd3studio.app.gpu.ArchiveExtractorTest.Entry;
import dev.sd3studio.app.reliability.FuzzTally;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Hostile GPU-pack archives ({@code .tar.xz} and {@code .zip}) for the fuzz suite: links out of the
 * folder, hard links, {@code ../} and absolute names, link loops, long names, devices, truncated and
 * damaged archives. Each extraction must end in a result or an IOException (which the installer
 * words), leave no link anywhere, write only wanted base names into the folder (and the licence),
 * leave the scratch folder removed and the files outside untouched.
 */
public final class ArchiveFuzz {
    private static final List<String> WANTED_NAMES = List.of("libcudart.so.12", "libcublas.so.12", "libcublasLt.so.12",
            "libcurand.so.10", "libcufft.so.11", "libcudnn.so.9", "libnvrtc.so.12");

    private ArchiveFuzz() {
    }

    public static FuzzTally run(Path dir, long seed) throws Exception {
        FuzzTally t = new FuzzTally("archive links");
        Random r = new Random(seed);
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Path canary = Files.writeString(outside.resolve("libcudart.so.12.0.0"), "the user's own file");
        List<String> names = new ArrayList<>();
        List<byte[]> tars = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            List<Entry> entries = new ArrayList<>();
            entries.add(Entry.file("pkg/LICENSE", "licence"));
            for (int k = 0; k < 2 + r.nextInt(5); k++) {
                entries.add(hostileEntry(r, outside, canary));
            }
            java.util.Collections.shuffle(entries, r);
            names.add("tar " + i);
            tars.add(ArchiveExtractorTest.tar(r.nextBoolean() ? TarArchiveOutputStream.LONGFILE_GNU
                    : TarArchiveOutputStream.LONGFILE_POSIX, entries));
        }
        int cases = tars.size();
        for (int i = 0; i < cases; i++) {
            byte[] tar = tars.get(i);
            if (i % 3 == 0) {
                names.add(names.get(i) + " truncated");
                tars.add(Arrays.copyOf(tar, r.nextInt(tar.length)));
            } else {
                names.add(names.get(i) + " with flipped bytes");
                tars.add(flip(tar, r));
            }
        }
        for (int i = 0; i < tars.size(); i++) {
            Path archive = dir.resolve("a" + i + ".tar.xz");
            byte[] xz = xz(tars.get(i));
            if (i % 7 == 6) {
                xz = Arrays.copyOf(xz, r.nextInt(xz.length)); // the compressed stream itself cut off
                names.set(i, names.get(i) + ", xz cut");
            }
            Files.write(archive, xz);
            judge(t, names.get(i), archive, Files.createDirectories(dir.resolve("x" + i)), outside, canary);
        }
        for (int i = 0; i < 12; i++) {
            byte[] zip = zip(r, outside);
            String name = "zip " + i;
            if (i % 3 == 1) {
                zip = Arrays.copyOf(zip, r.nextInt(zip.length));
                name += " truncated";
            } else if (i % 3 == 2) {
                zip = flip(zip, r);
                name += " with flipped bytes";
            }
            Path archive = Files.write(dir.resolve("z" + i + ".zip"), zip);
            judge(t, name, archive, Files.createDirectories(dir.resolve("y" + i)), outside, canary);
        }
        return t;
    }

    private static Entry hostileEntry(Random r, Path outside, Path canary) {
        String wanted = WANTED_NAMES.get(r.nextInt(WANTED_NAMES.size()));
        String versioned = wanted + "." + r.nextInt(10) + ".77";
        return switch (r.nextInt(14)) {
            case 0 -> Entry.symlink("pkg/lib/" + wanted, canary.toString());
            case 1 -> Entry.symlink("pkg/lib/" + wanted, "../".repeat(1 + r.nextInt(8)) + "outside/" + canary.getFileName());
            case 2 -> Entry.hardlink("pkg/lib/" + wanted, canary.toString());
            case 3 -> Entry.hardlink("pkg/lib/" + wanted, "pkg/lib/" + versioned);
            case 4 -> Entry.file("../".repeat(1 + r.nextInt(6)) + "outside/" + wanted, "traversal");
            case 5 -> Entry.file(outside.resolve(wanted).toString(), "absolute");
            case 6 -> Entry.symlink("pkg/lib/" + wanted, wanted); // itself
            case 7 -> Entry.symlink("pkg/lib/" + wanted, "libloop.so.1"); // with case 8: a loop
            case 8 -> Entry.symlink("pkg/lib/libloop.so.1", wanted);
            case 9 -> Entry.file("pkg/" + "d/".repeat(r.nextInt(3000)) + wanted, "long name");
            case 10 -> Entry.file("pkg/lib/" + versioned, "versioned content");
            case 11 -> new Entry("pkg/lib/" + wanted, r.nextBoolean() ? TarConstants.LF_FIFO : TarConstants.LF_CHR, "", null);
            case 12 -> new Entry("pkg/lib/" + wanted + "/", TarConstants.LF_DIR, "", null);
            default -> Entry.symlink("pkg/lib/" + wanted, r.nextBoolean() ? "/" : "..");
        };
    }

    private static byte[] zip(Random r, Path outside) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            String[] names = {"../../outside/cudart64_12.dll", outside.resolve("cublas64_12.dll").toString(), "LICENSE",
                    "bin/" + "d/".repeat(2000) + "cudnn64_9.dll", "C:\\Windows\\cufft64_11.dll", "..\\..\\curand64_10.dll",
                    "bin/cudart64_12.dll/", "bin/nvrtc64_120_0.dll", "/abs/libcudart.so.12"};
            for (int k = 0; k < 3 + r.nextInt(4); k++) {
                zip.putNextEntry(new ZipEntry(names[r.nextInt(names.length)]));
                zip.write(("zip content " + k).getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        } catch (java.util.zip.ZipException duplicate) {
            // a repeated name: what was written so far is the archive
        }
        return bytes.toByteArray();
    }

    private static void judge(FuzzTally t, String what, Path archive, Path caseDir, Path outside, Path canary) {
        Path pack = caseDir.resolve("pack");
        try {
            Path cuda = Files.createDirectories(pack.resolve("cuda"));
            Files.createDirectories(pack.resolve("licenses"));
            java.util.regex.Pattern wanted = archive.toString().endsWith(".zip")
                    ? java.util.regex.Pattern.compile("(cudart64_12|cublas64_12|cudnn64_9|cufft64_11|curand64_10|nvrtc64_120_0)\\.dll")
                    : ArchiveExtractorTest.WANTED;
            try {
                ArchiveExtractor.nvidia(archive, wanted, cuda, pack.resolve("licenses/LICENSE.txt"));
            } catch (IOException named) {
                // the installer reports it ("installing the GPU pack … failed (…)") and removes its staging
            }
            String problem = problem(caseDir, cuda, wanted, outside, canary);
            if (problem == null) {
                t.handled();
            } else {
                t.crashed(what + ": " + problem);
            }
        } catch (Throwable e) {
            t.crashed(what + ": " + e);
        }
    }

    private static String problem(Path caseDir, Path cuda, java.util.regex.Pattern wanted, Path outside, Path canary)
            throws IOException {
        try (Stream<Path> all = Files.walk(caseDir)) {
            for (Path p : all.toList()) {
                String rel = caseDir.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    return "created a link " + rel;
                }
                boolean expected = rel.isEmpty() || rel.equals("pack") || rel.equals("pack/cuda") || rel.equals("pack/licenses")
                        || rel.equals("pack/licenses/LICENSE.txt")
                        || p.getParent().equals(cuda) && Files.isRegularFile(p) && wanted.matcher(p.getFileName().toString()).matches();
                if (!expected) {
                    return "left " + rel;
                }
            }
        }
        try (Stream<Path> s = Files.list(outside)) {
            List<Path> there = s.toList();
            if (there.size() != 1 || !Files.readString(canary).equals("the user's own file")) {
                return "touched the folder outside: " + there;
            }
        }
        return null;
    }

    private static byte[] xz(byte[] tar) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new XZOutputStream(bytes, new LZMA2Options(1))) {
            out.write(tar);
        }
        return bytes.toByteArray();
    }

    private static byte[] flip(byte[] b, Random r) {
        byte[] out = b.clone();
        for (int k = 0; k < 1 + r.nextInt(8); k++) {
            out[r.nextInt(out.length)] ^= (byte) (1 + r.nextInt(255));
        }
        return out;
    }
}
