package dev.sd3studio.app.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code x.png} for one image, {@code x-0.png}, {@code x-1.png}… for several. */
final class OutputNames {
    private OutputNames() {
    }

    static List<Path> numbered(Path out, int count) {
        List<Path> files = new ArrayList<>();
        if (count == 1) {
            files.add(out);
            return files;
        }
        String name = out.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot) : ".png";
        for (int i = 0; i < count; i++) {
            files.add(out.resolveSibling(stem + "-" + i + ext));
        }
        return files;
    }
}
