package dev.sd3studio.engine.lora;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The protobuf wire format, just enough to walk an ONNX model: varints, fixed 32/64-bit fields and
 * length-delimited fields, read from a (memory-mapped) buffer without copying the skipped bytes.
 * Every length is checked against the enclosing message, so a truncated file fails cleanly.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH = 2;
    static final int FIXED32 = 5;

    private final ByteBuffer buf;
    private int pos;
    private final int limit;

    ProtoReader(ByteBuffer buf, int start, int limit) {
        this.buf = buf;
        this.pos = start;
        this.limit = limit;
    }

    boolean hasMore() {
        return pos < limit;
    }

    int position() {
        return pos;
    }

    /** The next tag (field number << 3 | wire type). */
    int tag() {
        long t = varint();
        if (t <= 0 || t > Integer.MAX_VALUE) {
            throw new IllegalStateException("bad tag at byte " + pos);
        }
        return (int) t;
    }

    long varint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= limit) {
                throw new IllegalStateException("truncated varint at byte " + pos);
            }
            byte b = buf.get(pos++);
            result |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw new IllegalStateException("varint too long at byte " + pos);
    }

    /** A length-delimited field's body as a reader positioned at its start; the outer reader moves past it. */
    ProtoReader message() {
        int len = length();
        ProtoReader inner = new ProtoReader(buf, pos, pos + len);
        pos += len;
        return inner;
    }

    /** Skips a length-delimited field, returning where its body starts and how long it is. */
    long[] span() {
        int len = length();
        long[] s = {pos, len};
        pos += len;
        return s;
    }

    String string() {
        int len = length();
        byte[] b = new byte[len];
        buf.get(pos, b);
        pos += len;
        return new String(b, StandardCharsets.UTF_8);
    }

    private int length() {
        long len = varint();
        if (len < 0 || len > limit - pos) {
            throw new IllegalStateException("field of " + len + " bytes overruns its message at byte " + pos);
        }
        return (int) len;
    }

    void skip(int tag) {
        switch (tag & 7) {
            case VARINT -> varint();
            case FIXED64 -> advance(8);
            case LENGTH -> length(len -> advance(len));
            case FIXED32 -> advance(4);
            default -> throw new IllegalStateException("unsupported wire type " + (tag & 7) + " at byte " + pos);
        }
    }

    private void length(java.util.function.IntConsumer then) {
        then.accept(length());
    }

    private void advance(int n) {
        if (n > limit - pos) {
            throw new IllegalStateException("truncated field at byte " + pos);
        }
        pos += n;
    }
}
