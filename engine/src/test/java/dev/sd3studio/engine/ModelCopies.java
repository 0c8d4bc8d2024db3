package dev.sd3studio.engine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

/** Cheap variants of a model folder: links to every part, some files replaced or removed. */
public final class ModelCopies {
    private ModelCopies() {
    }

    /** {@code base} linked into {@code dir}, with {@code relative} (component/file) set to {@code bytes}, or removed if null. */
    public static Path withFile(Path base, Path dir, String relative, byte[] bytes) throws Exception {
        java.util.HashMap<String, byte[]> one = new java.util.HashMap<>();
        one.put(relative, bytes);
        return withFiles(base, dir, one);
    }

    /** Like {@link #withFile} for several files (a null value removes the file). */
    public static Path withFiles(Path base, Path dir, Map<String, byte[]> files) throws Exception {
        Files.createDirectories(dir);
        java.util.Set<String> components = new java.util.HashSet<>();
        files.keySet().forEach(k -> components.add(k.substring(0, k.indexOf('/'))));
        try (Stream<Path> children = Files.list(base)) {
            for (Path c : children.toList()) {
                String name = c.getFileName().toString();
                if (!components.contains(name)) {
                    Files.createSymbolicLink(dir.resolve(name), c);
                }
            }
        }
        for (String component : components) {
            Path part = Files.createDirectories(dir.resolve(component));
            try (Stream<Path> children = Files.list(base.resolve(component))) {
                for (Path c : children.toList()) {
                    String rel = component + "/" + c.getFileName();
                    if (!files.containsKey(rel)) {
                        Files.createSymbolicLink(part.resolve(c.getFileName().toString()), c);
                    }
                }
            }
        }
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            if (f.getValue() != null) {
                Files.write(dir.resolve(f.getKey()), f.getValue());
            }
        }
        return dir;
    }

    /** Removes every link, so that deleting the variant never reaches into the original. */
    public static void unlink(Path dir) throws Exception {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isSymbolicLink).toList()) {
                Files.delete(p);
            }
        }
    }
}
