package dev.sd3studio.app.gallery;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads the text chunks (tEXt, zTXt, iTXt) of a PNG file with bounded work: pixel data is skipped,
 * not read; a chunk over {@link #MAX_TEXT_BYTES} (a 20 MB prompt once froze the gallery and took
 * gigabytes) is skipped; compressed text is inflated to at most that size; at most
 * {@link #MAX_CHUNKS} chunks are looked at. A file that is not a PNG has no text.
 */
final class PngText {
    /**
     * Far beyond any real set of prompts (T5 reads 512 tokens, a few KB), yet small enough that
     * counting the tokens of what is loaded stays quick.
     */
    static final int MAX_TEXT_BYTES = 64 * 1024;
    static final int MAX_CHUNKS = 200_000;
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private PngText() {
    }

    static boolean isPng(Path file) throws IOException {
        try (SeekableByteChannel ch = Files.newByteChannel(file)) {
            return hasSignature(ch);
        }
    }

    static Map<String, String> read(Path file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (SeekableByteChannel ch = Files.newByteChannel(file)) {
            if (!hasSignature(ch)) {
                return out;
            }
            ByteBuffer header = ByteBuffer.allocate(8);
            for (int i = 0; i < MAX_CHUNKS; i++) {
                header.clear();
                if (!fill(ch, header)) {
                    break; // cut off: keep what was read
                }
                long length = Integer.toUnsignedLong(header.getInt(0));
                String type = new String(header.array(), 4, 4, StandardCharsets.ISO_8859_1);
                if (type.equals("IEND")) {
                    break;
                }
                boolean text = type.equals("tEXt") || type.equals("zTXt") || type.equals("iTXt");
                if (text && length <= MAX_TEXT_BYTES) {
                    ByteBuffer body = ByteBuffer.allocate((int) length);
                    if (!fill(ch, body)) {
                        break;
                    }
                    parse(type, body.array(), out);
                    ch.position(ch.position() + 4);
                } else {
                    ch.position(ch.position() + length + 4);
                }
            }
        }
        return out;
    }

    private static void parse(String type, byte[] b, Map<String, String> out) {
        try {
            int nul = indexOf(b, 0, 0); // a chunk without its separators is damaged like any other
            if (nul <= 0) {
                return;
            }
            String keyword = new String(b, 0, nul, StandardCharsets.ISO_8859_1);
            switch (type) {
                case "tEXt" -> out.put(keyword, new String(b, nul + 1, b.length - nul - 1, StandardCharsets.ISO_8859_1));
                case "zTXt" -> out.put(keyword, new String(inflate(Arrays.copyOfRange(b, nul + 2, b.length)),
                        StandardCharsets.ISO_8859_1));
                default -> {
                    boolean compressed = b[nul + 1] != 0;
                    int lang = indexOf(b, 0, nul + 3);
                    int translated = indexOf(b, 0, lang + 1);
                    byte[] text = Arrays.copyOfRange(b, translated + 1, b.length);
                    out.put(keyword, new String(compressed ? inflate(text) : text, StandardCharsets.UTF_8));
                }
            }
        } catch (IOException | RuntimeException e) {
            // one damaged chunk costs that chunk only
        }
    }

    private static byte[] inflate(byte[] data) throws IOException {
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(data);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            while (!inflater.finished()) {
                int n = inflater.inflate(buf);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw new IOException("truncated compressed text");
                }
                out.write(buf, 0, n);
                if (out.size() > MAX_TEXT_BYTES) {
                    throw new IOException("compressed text too large"); // a zip bomb stops here
                }
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new IOException(e);
        } finally {
            inflater.end();
        }
    }

    private static int indexOf(byte[] b, int value, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == value) {
                return i;
            }
        }
        throw new IllegalArgumentException("no separator");
    }

    private static boolean hasSignature(SeekableByteChannel ch) throws IOException {
        ByteBuffer sig = ByteBuffer.allocate(SIGNATURE.length);
        return fill(ch, sig) && Arrays.equals(sig.array(), SIGNATURE);
    }

    private static boolean fill(SeekableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                return false;
            }
        }
        return true;
    }
}
