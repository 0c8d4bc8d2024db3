package dev.sd3studio.app.hub;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Whether a path from a repository listing is one this app writes: relative, {@code /}-separated,
 * staying inside its folder, and made of names that every file system we run on accepts, Windows
 * included, so a repository downloads (or is refused) the same way everywhere. Checked on the
 * listing's strings alone, before any file-system call.
 */
final class PortablePath {
    private static final int MAX_LENGTH = 1024;
    private static final int MAX_NAME = 255;
    private static final String WINDOWS_FORBIDDEN = "<>:\"|?*";
    private static final Pattern WINDOWS_DEVICE = Pattern.compile("(con|prn|aux|nul|com[0-9]|lpt[0-9])(\\..*)?");

    private PortablePath() {
    }

    /** What is wrong with {@code path}, or empty when it is safe to write under a folder. */
    static Optional<String> problem(String path) {
        if (path.isEmpty()) {
            return Optional.of("is empty");
        }
        if (path.length() > MAX_LENGTH) {
            return Optional.of("is longer than " + MAX_LENGTH + " characters");
        }
        if (path.startsWith("/")) {
            return Optional.of("is absolute");
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return Optional.of("contains a control character");
            }
            if (c == '\\') {
                return Optional.of("contains a backslash");
            }
            if (WINDOWS_FORBIDDEN.indexOf(c) >= 0) {
                return Optional.of("contains '" + c + "', which Windows does not allow in file names");
            }
        }
        for (String name : path.split("/", -1)) {
            if (name.isEmpty()) {
                return Optional.of("has an empty folder name");
            }
            if (name.equals(".") || name.equals("..")) {
                return Optional.of("steps out of its folder ('" + name + "')");
            }
            if (name.endsWith(".") || name.endsWith(" ")) {
                return Optional.of("has a name ending in a dot or a space, which Windows drops");
            }
            if (name.length() > MAX_NAME) {
                return Optional.of("has a name longer than " + MAX_NAME + " characters");
            }
            if (WINDOWS_DEVICE.matcher(name.toLowerCase(Locale.ROOT)).matches()) {
                return Optional.of("uses '" + name + "', a device name on Windows");
            }
        }
        return Optional.empty();
    }
}
