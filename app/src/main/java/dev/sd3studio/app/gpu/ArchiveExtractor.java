package dev.sd3studio.app.gpu;

import org.tukaani.xz.XZInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Takes the runtime libraries out of NVIDIA's redistributable archives ({@code .tar.xz} on Linux,
 * {@code .zip} on Windows) and ORT's natives out of its jar. In the Linux archives the loader's
 * names ({@code libcudart.so.12}) are symbolic links to versioned files; the pack stores the file's
 * content under the loader's name, so it needs no links.
 */
final class ArchiveExtractor {
    private ArchiveExtractor() {
    }

    /** Extracts the libraries whose names match {@code wanted} into {@code dir}, and the licence into {@code licence}. */
    static int nvidia(Path archive, Pattern wanted, Path dir, Path licence) throws IOException {
        String name = archive.getFileName().toString();
        return name.endsWith(".zip") ? zip(archive, wanted, dir, licence) : tarXz(archive, wanted, dir, licence);
    }

    /** ORT's natives for this platform from the {@code onnxruntime_gpu} jar. */
    static int ortJar(Path jar, Platform platform, Path dir) throws IOException {
        int n = 0;
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                String base = baseName(e.getName());
                if (!e.isDirectory() && e.getName().startsWith(platform.ortJarFolder()) && platform.isOrtNative(base)) {
                    try (InputStream in = zip.getInputStream(e)) {
                        Files.copy(in, dir.resolve(base), StandardCopyOption.REPLACE_EXISTING);
                    }
                    n++;
                }
            }
        }
        return n;
    }

    private static int zip(Path archive, Pattern wanted, Path dir, Path licence) throws IOException {
        int n = 0;
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                String base = baseName(e.getName());
                Path target = wanted.matcher(base).matches() ? dir.resolve(base) : isLicence(e.getName()) ? licence : null;
                if (!e.isDirectory() && target != null) {
                    try (InputStream in = zip.getInputStream(e)) {
                        Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                    n += target == licence ? 0 : 1;
                }
            }
        }
        return n;
    }

    private static int tarXz(Path archive, Pattern wanted, Path dir, Path licence) throws IOException {
        Map<String, String> links = new HashMap<>();
        Map<String, Path> versioned = new HashMap<>();
        Path scratch = Files.createTempDirectory(dir.getParent(), ".extract");
        int n = 0;
        try (InputStream in = new XZInputStream(new BufferedInputStream(Files.newInputStream(archive), 1 << 16))) {
            TarReader tar = new TarReader(in);
            for (TarReader.Entry e = tar.next(); e != null; e = tar.next()) {
                String base = baseName(e.name());
                if (e.type() == '2') {
                    links.put(base, baseName(e.linkName()));
                } else if (e.type() == '0' || e.type() == 0) {
                    if (wanted.matcher(base).matches()) {
                        Files.copy(tar.content(), dir.resolve(base), StandardCopyOption.REPLACE_EXISTING);
                        n++;
                    } else if (versionOfWanted(base, wanted)) {
                        Path p = scratch.resolve(base);
                        Files.copy(tar.content(), p, StandardCopyOption.REPLACE_EXISTING);
                        versioned.put(base, p);
                    } else if (isLicence(e.name())) {
                        Files.copy(tar.content(), licence, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            for (Map.Entry<String, String> link : links.entrySet()) {
                if (!wanted.matcher(link.getKey()).matches() || Files.exists(dir.resolve(link.getKey()))) {
                    continue;
                }
                String target = link.getValue();
                for (int hops = 0; hops < 8 && links.containsKey(target) && !versioned.containsKey(target); hops++) {
                    target = links.get(target);
                }
                Path file = versioned.get(target);
                if (file != null) {
                    Files.copy(file, dir.resolve(link.getKey()), StandardCopyOption.REPLACE_EXISTING);
                    n++;
                }
            }
        } finally {
            try (var s = Files.list(scratch)) {
                for (Path p : s.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(scratch);
        }
        return n;
    }

    /** {@code libcudart.so.12.6.77} for {@code libcudart\.so\.12}: a versioned file a wanted name links to. */
    private static boolean versionOfWanted(String base, Pattern wanted) {
        int dot = base.length();
        while ((dot = base.lastIndexOf('.', dot - 1)) > 0) {
            if (wanted.matcher(base.substring(0, dot)).matches()) {
                return true;
            }
        }
        return false;
    }

    private static boolean isLicence(String entry) {
        String base = baseName(entry).toUpperCase(java.util.Locale.ROOT);
        return (base.equals("LICENSE") || base.equals("LICENSE.TXT")) && entry.chars().filter(c -> c == '/').count() <= 1;
    }

    static String baseName(String path) {
        String p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        return p.substring(p.lastIndexOf('/') + 1);
    }

    /** The parts of the tar format NVIDIA's archives use: ustar, GNU long names, pax path records. */
    static final class TarReader {
        record Entry(String name, char type, long size, String linkName) {
        }

        private final InputStream in;
        private long remaining;
        private long padding;

        TarReader(InputStream in) {
            this.in = in;
        }

        Entry next() throws IOException {
            skip(remaining + padding);
            String longName = null;
            String longLink = null;
            while (true) {
                byte[] h = in.readNBytes(512);
                if (h.length < 512 || isZero(h)) {
                    return null;
                }
                String name = text(h, 0, 100);
                String prefix = text(h, 345, 155);
                if (!prefix.isEmpty() && "ustar".equals(text(h, 257, 5))) {
                    name = prefix + "/" + name;
                }
                char type = (char) h[156];
                long size = octal(h, 124, 12);
                String link = text(h, 157, 100);
                long pad = (512 - size % 512) % 512;
                if (type == 'L' || type == 'K' || type == 'x') {
                    String data = new String(in.readNBytes((int) size), StandardCharsets.UTF_8);
                    skip(pad);
                    if (type == 'L') {
                        longName = data.replace("\0", "");
                    } else if (type == 'K') {
                        longLink = data.replace("\0", "");
                    } else {
                        for (String rec : data.split("\n")) {
                            int sp = rec.indexOf(' ');
                            if (sp > 0 && rec.startsWith("path=", sp + 1)) {
                                longName = rec.substring(sp + 6);
                            } else if (sp > 0 && rec.startsWith("linkpath=", sp + 1)) {
                                longLink = rec.substring(sp + 10);
                            }
                        }
                    }
                    continue;
                }
                remaining = size;
                padding = pad;
                return new Entry(longName != null ? longName : name, type, size, longLink != null ? longLink : link);
            }
        }

        /** The current entry's content; read it fully or not at all. */
        InputStream content() {
            long size = remaining;
            remaining = 0;
            return new InputStream() {
                private long left = size;

                @Override
                public int read() throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    left--;
                    return in.read();
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    int n = in.read(b, off, (int) Math.min(len, left));
                    if (n > 0) {
                        left -= n;
                    }
                    return n;
                }
            };
        }

        private void skip(long n) throws IOException {
            in.skipNBytes(n);
            remaining = 0;
            padding = 0;
        }

        private static boolean isZero(byte[] b) {
            for (byte x : b) {
                if (x != 0) {
                    return false;
                }
            }
            return true;
        }

        private static String text(byte[] h, int off, int len) {
            int end = off;
            while (end < off + len && h[end] != 0) {
                end++;
            }
            return new String(h, off, end - off, StandardCharsets.UTF_8);
        }

        private static long octal(byte[] h, int off, int len) {
            String s = text(h, off, len).trim();
            return s.isEmpty() ? 0 : Long.parseLong(s, 8);
        }
    }
}
