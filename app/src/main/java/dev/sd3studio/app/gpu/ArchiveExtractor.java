package dev.sd3studio.app.gpu;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.tukaani.xz.XZInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
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
 * content under the loader's name, so it needs no links. Whatever an entry's path, only its base
 * name is used, and only names the platform's patterns want are written, into one folder; links
 * are resolved in memory (a bounded number of hops) and never created. The tar format itself
 * (GNU and PAX long names, base-256 sizes) is read by commons-compress. Archives reach this class
 * only after their SHA-256 has been verified.
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
        try (TarArchiveInputStream tar = new TarArchiveInputStream(
                new XZInputStream(new BufferedInputStream(Files.newInputStream(archive), 1 << 16)))) {
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                String base = baseName(e.getName());
                if (e.isSymbolicLink()) {
                    links.put(base, baseName(e.getLinkName()));
                } else if (e.getLinkFlag() == TarConstants.LF_NORMAL || e.getLinkFlag() == TarConstants.LF_OLDNORM) {
                    // plain files only: hard links, devices, FIFOs and directories are never written
                    if (wanted.matcher(base).matches()) {
                        Files.copy(tar, dir.resolve(base), StandardCopyOption.REPLACE_EXISTING);
                        n++;
                    } else if (versionOfWanted(base, wanted)) {
                        Path p = scratch.resolve(base);
                        Files.copy(tar, p, StandardCopyOption.REPLACE_EXISTING);
                        versioned.put(base, p);
                    } else if (isLicence(e.getName())) {
                        Files.copy(tar, licence, StandardCopyOption.REPLACE_EXISTING);
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
}
