package dev.sd3studio.app.gpu;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile {@code .tar.xz} archives against the extraction policy: only wanted base names are
 * written, into one folder; links are resolved in memory and never created; paths in entries
 * (traversal, absolute, long GNU/PAX names) never choose where anything is written.
 */
class ArchiveExtractorTest {
    static final Pattern WANTED = Pattern.compile("lib(cudart\\.so\\.12|cublas(Lt)?\\.so\\.12|curand\\.so\\.10"
            + "|cufft\\.so\\.11|cudnn\\.so\\.9|nvrtc\\.so\\.12)");

    @TempDir
    Path tmp;

    /** One archive entry: a file with content, or a symbolic / hard link to a target. */
    record Entry(String name, byte type, String content, String linkTarget) {
        static Entry file(String name, String content) {
            return new Entry(name, TarConstants.LF_NORMAL, content, null);
        }

        static Entry symlink(String name, String target) {
            return new Entry(name, TarConstants.LF_SYMLINK, null, target);
        }

        static Entry hardlink(String name, String target) {
            return new Entry(name, TarConstants.LF_LINK, null, target);
        }
    }

    static byte[] tar(int longFileMode, List<Entry> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(longFileMode);
            for (Entry e : entries) {
                TarArchiveEntry t = new TarArchiveEntry(e.name(), e.type(), true);
                if (e.linkTarget() != null) {
                    t.setLinkName(e.linkTarget());
                    tar.putArchiveEntry(t);
                } else {
                    byte[] c = e.content().getBytes(StandardCharsets.UTF_8);
                    t.setSize(c.length);
                    tar.putArchiveEntry(t);
                    tar.write(c);
                }
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    Path xz(byte[] tar) throws IOException {
        Path archive = tmp.resolve("archive-" + System.nanoTime() + ".tar.xz");
        try (OutputStream out = new XZOutputStream(Files.newOutputStream(archive), new LZMA2Options())) {
            out.write(tar);
        }
        return archive;
    }

    /** Extracts into {@code tmp/pack/cuda}; returns that folder. */
    Path extract(Path archive) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("pack/cuda"));
        Files.createDirectories(tmp.resolve("pack/licenses"));
        ArchiveExtractor.nvidia(archive, WANTED, dir, tmp.resolve("pack/licenses/LICENSE.txt"));
        return dir;
    }

    List<String> written(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    void assertNoLinksAnywhere() throws IOException {
        try (Stream<Path> all = Files.walk(tmp)) {
            List<Path> links = all.filter(Files::isSymbolicLink).toList();
            assertTrue(links.isEmpty(), "links created: " + links);
        }
        try (Stream<Path> pack = Files.list(tmp.resolve("pack"))) {
            assertEquals(List.of("cuda", "licenses"), pack.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no scratch folder left beside the pack");
        }
    }

    @Test
    void hostileEntriesWriteOnlyWantedBaseNamesIntoTheFolderAndCreateNoLinks() throws IOException {
        Path outside = tmp.resolve("outside");
        Path archive = xz(tar(TarArchiveOutputStream.LONGFILE_GNU, List.of(
                Entry.file("pkg/LICENSE", "licence text"),
                Entry.file("pkg/lib/libcudart.so.12.6.77", "cudart content"),
                // a wanted name linking out of the archive, to a file that exists there
                Entry.symlink("pkg/lib/libnvrtc.so.12", outside.resolve("libnvrtc.so.12.6.77").toString()),
                // a wanted name linking up and out, to a name the archive also has: resolved to the archive's content
                Entry.symlink("pkg/lib/libcudart.so.12", "../../../../outside/libcudart.so.12.6.77"),
                // a hard link is never extracted
                Entry.file("pkg/lib/libcurand.so.10.3.7", "curand content"),
                Entry.hardlink("pkg/lib/libcurand.so.10", "pkg/lib/libcurand.so.10.3.7"),
                // traversal and absolute names: only the base name counts, inside the folder
                Entry.file("../../outside/libcufft.so.11", "cufft content"),
                Entry.file(outside.resolve("abs/libcublas.so.12").toString(), "cublas content"),
                // a link loop ends
                Entry.symlink("pkg/lib/libcublasLt.so.12", "libloop.so.12"),
                Entry.symlink("pkg/lib/libloop.so.12", "libcublasLt.so.12"),
                // a long (GNU) name
                Entry.file("pkg/" + "deep/".repeat(40) + "libcudnn.so.9", "cudnn content"),
                Entry.file("pkg/lib/libunwanted.so.1", "not taken"))));
        Files.createDirectories(outside);
        Files.writeString(outside.resolve("libnvrtc.so.12.6.77"), "a file outside the archive");

        Path dir = extract(archive);
        assertEquals(List.of("libcublas.so.12", "libcudart.so.12", "libcudnn.so.9", "libcufft.so.11"), written(dir));
        assertEquals("cudart content", Files.readString(dir.resolve("libcudart.so.12")));
        assertEquals("cudnn content", Files.readString(dir.resolve("libcudnn.so.9")));
        assertEquals("licence text", Files.readString(tmp.resolve("pack/licenses/LICENSE.txt")));
        try (Stream<Path> s = Files.walk(outside)) {
            assertEquals(List.of(outside, outside.resolve("libnvrtc.so.12.6.77")), s.sorted().toList(), "nothing written outside");
        }
        assertNoLinksAnywhere();
    }

    @Test
    void paxLongNamesAreRead() throws IOException {
        String longName = "pkg/" + "ü-deep/".repeat(30) + "libcudnn.so.9";
        Path dir = extract(xz(tar(TarArchiveOutputStream.LONGFILE_POSIX, List.of(
                Entry.file(longName, "cudnn via pax"),
                Entry.symlink("pkg/" + "x".repeat(120) + "/libcufft.so.11", "libcufft.so.11.3.0.4"),
                Entry.file("pkg/lib/libcufft.so.11.3.0.4", "cufft via link")))));
        assertEquals(List.of("libcudnn.so.9", "libcufft.so.11"), written(dir));
        assertEquals("cudnn via pax", Files.readString(dir.resolve("libcudnn.so.9")));
        assertEquals("cufft via link", Files.readString(dir.resolve("libcufft.so.11")));
        assertNoLinksAnywhere();
    }

    @Test
    void aBase256SizeIsRead() throws IOException {
        // GNU tar writes sizes of 8 GiB and more in base-256; any size may be written that way
        byte[] tar = tar(TarArchiveOutputStream.LONGFILE_GNU, List.of(Entry.file("pkg/lib/libcudart.so.12", "binary size")));
        long size = "binary size".length();
        tar[124] = (byte) 0x80;
        for (int i = 125; i < 136; i++) {
            tar[i] = 0;
        }
        tar[135] = (byte) size;
        int sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : tar[i] & 0xff;
        }
        byte[] checksum = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(checksum, 0, tar, 148, 8);
        Path dir = extract(xz(tar));
        assertEquals("binary size", Files.readString(dir.resolve("libcudart.so.12")));
        assertFalse(Files.exists(tmp.resolve("pack/licenses/LICENSE.txt")));
    }
}
