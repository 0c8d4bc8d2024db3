package dev.sd3studio.app.hub;

/**
 * Text a server chose (file names, error codes, manifest fields) made safe to print: control
 * characters, which start ANSI/OSC escape sequences that can rewrite a terminal, and the
 * bidirectional overrides that reorder what is shown, become visible {@code \\uXXXX} text.
 */
public final class TerminalSafe {
    private TerminalSafe() {
    }

    public static String text(String s) {
        if (s == null) {
            return null;
        }
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            if (unsafe(c)) {
                b.append(String.format("\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }

    static boolean unsafe(int c) {
        return Character.isISOControl(c) || c == 0x061C || c == 0x200E || c == 0x200F
                || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
    }
}
