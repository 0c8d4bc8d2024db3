import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Moves a jar's native libraries out of the jar, at package time, so the installed app loads them
 * from its own folder instead of extracting them to the temp folder on every start:
 * <pre>
 *   java SplitNatives.java JAR OUT_JAR NATIVE_DIR EXTRACT_PREFIX DROP_PREFIX [KEEP_ENTRY ...]
 * </pre>
 * Files directly under {@code EXTRACT_PREFIX} (this platform's folder) are written to
 * {@code NATIVE_DIR}; every entry under {@code DROP_PREFIX} (all platforms' natives) is left out of
 * {@code OUT_JAR}, except classes and the {@code KEEP_ENTRY} names. Runs with the JDK alone
 * (Linux and Windows).
 */
public final class SplitNatives {
    public static void main(String[] args) throws IOException {
        if (args.length < 5) {
            System.err.println("usage: SplitNatives JAR OUT_JAR NATIVE_DIR EXTRACT_PREFIX DROP_PREFIX [KEEP_ENTRY ...]");
            System.exit(2);
        }
        Path jar = Path.of(args[0]);
        Path outJar = Path.of(args[1]);
        Path nativeDir = Path.of(args[2]);
        String extract = args[3];
        String drop = args[4];
        List<String> keep = Arrays.asList(args).subList(5, args.length);
        Files.createDirectories(nativeDir);
        int extracted = 0;
        try (ZipFile in = new ZipFile(jar.toFile());
             OutputStream file = Files.newOutputStream(outJar);
             ZipOutputStream out = new ZipOutputStream(file)) {
            for (ZipEntry e : in.stream().toList()) {
                String name = e.getName();
                boolean mine = name.startsWith(extract) && !e.isDirectory() && name.indexOf('/', extract.length()) < 0;
                if (mine) {
                    try (InputStream s = in.getInputStream(e)) {
                        Files.copy(s, nativeDir.resolve(name.substring(extract.length())));
                    }
                    extracted++;
                }
                if (name.startsWith(drop) && !name.endsWith(".class") && !keep.contains(name)) {
                    continue;
                }
                out.putNextEntry(new ZipEntry(name));
                try (InputStream s = in.getInputStream(e)) {
                    s.transferTo(out);
                }
                out.closeEntry();
            }
        }
        if (extracted == 0) {
            System.err.println("error: " + jar + " has no files under " + extract);
            System.exit(1);
        }
        System.out.printf("%s: %d native file(s) to %s, jar %d -> %d KB%n", jar.getFileName(), extracted,
                nativeDir, Files.size(jar) / 1024, Files.size(outJar) / 1024);
    }
}
