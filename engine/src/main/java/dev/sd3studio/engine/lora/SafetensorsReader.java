package dev.sd3studio.engine.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@code .safetensors} file: an 8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the raw little-endian data. Only the header is read at open; each
 * tensor is read on demand with a positional read, so a multi-hundred-MB file never sits in the heap.
 * Every range is checked against the file before anything is read; nothing in the file is executed.
 */
public final class SafetensorsReader implements AutoCloseable {
    /** Headers of real files are a few hundred KB; anything this large is not a safetensors file. */
    private static final long MAX_HEADER = 100L << 20;
    /** What one heap buffer can hold. */
    private static final long MAX_TENSOR_BYTES = Integer.MAX_VALUE - 8;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Element types we can turn into float32. */
    public enum DType {
        F32(4), F16(2), BF16(2), F64(8);

        final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }
    }

    /** One tensor's entry in the header; {@code begin}/{@code end} are absolute file positions. */
    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {
        public long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private final Path file;
    private final FileChannel channel;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsReader(Path file, FileChannel channel, Map<String, Entry> entries, Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.entries = entries;
        this.metadata = metadata;
    }

    public static SafetensorsReader open(Path file) throws EngineException {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new EngineException(Kind.IO, "cannot read LoRA file " + file + ": " + e.getMessage()
                    + ". Check the path and its permissions.", e);
        }
        try {
            long size = ch.size();
            if (size < 8) {
                throw corrupt(file, "it is only " + size + " bytes long");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long headerLength = len.flip().getLong();
            if (headerLength <= 1 || headerLength > MAX_HEADER || headerLength > size - 8) {
                throw corrupt(file, "its header length " + Long.toUnsignedString(headerLength)
                        + " does not fit the file (" + size + " bytes)");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(ch, header, 8);
            JsonNode root;
            try {
                root = JSON.readTree(new String(header.array(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw corrupt(file, "its header is not JSON");
            }
            if (root == null || !root.isObject()) {
                throw corrupt(file, "its header is not a JSON object");
            }
            long dataStart = 8 + headerLength;
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("__metadata__")) {
                    f.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                entries.put(f.getKey(), entry(file, f.getKey(), f.getValue(), dataStart, size));
            }
            return new SafetensorsReader(file, ch, Collections.unmodifiableMap(entries),
                    Collections.unmodifiableMap(metadata));
        } catch (EngineException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        } catch (IOException e) {
            closeQuietly(ch);
            throw new EngineException(Kind.IO, "cannot read LoRA file " + file + ": " + e.getMessage(), e);
        }
    }

    private static Entry entry(Path file, String name, JsonNode n, long dataStart, long size) throws EngineException {
        String dtype = n.path("dtype").asText("");
        JsonNode shapeNode = n.path("shape");
        JsonNode offsets = n.path("data_offsets");
        if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2
                || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw corrupt(file, "tensor '" + name + "' has no valid shape or data_offsets");
        }
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong(-1);
            if (shape[i] < 0 || shape[i] > Integer.MAX_VALUE) {
                throw corrupt(file, "tensor '" + name + "' has an invalid shape " + shapeNode);
            }
            try {
                elements = elements == Long.MAX_VALUE ? elements : Math.multiplyExact(elements, shape[i]);
            } catch (ArithmeticException overflow) {
                elements = Long.MAX_VALUE;
            }
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (begin < 0 || end < begin || end > size - dataStart) {
            throw corrupt(file, "tensor '" + name + "' lies outside the file (bytes " + begin + ".." + end + ")");
        }
        DType type;
        try {
            type = DType.valueOf(dtype);
        } catch (IllegalArgumentException e) {
            // Kept so the report can name it; reading it fails with a clear message.
            return new Entry(name, null, shape, dataStart + begin, dataStart + end);
        }
        if (elements > Long.MAX_VALUE / 8 || elements * type.bytes != end - begin) {
            throw corrupt(file, "tensor '" + name + "' is " + (end - begin) + " bytes, but " + dtype + " "
                    + shapeNode + " needs " + (elements > Long.MAX_VALUE / 8 ? "more" : elements * type.bytes));
        }
        return new Entry(name, type, shape, dataStart + begin, dataStart + end);
    }

    public Path file() {
        return file;
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** One tensor as float32, whatever its stored type (F32, F16, BF16, F64). */
    public float[] readFloats(String name) throws EngineException {
        Entry e = entries.get(name);
        if (e == null) {
            throw new EngineException(Kind.CORRUPT_FILE, "LoRA file " + file + " has no tensor '" + name + "'");
        }
        if (e.dtype() == null) {
            throw new EngineException(Kind.INCOMPATIBLE_MODEL, "tensor '" + name + "' in " + file
                    + " has a type SD3 Studio cannot merge; F32, F16 and BF16 LoRAs are supported.");
        }
        // Bounded by bytes, the larger of the two (open checked bytes = elements × the type's size).
        long bytes = e.end() - e.begin();
        if (bytes > MAX_TENSOR_BYTES) {
            throw new EngineException(Kind.INCOMPATIBLE_MODEL, "tensor '" + name + "' in " + file + " is " + bytes
                    + " bytes; SD3 Studio reads LoRA tensors of up to 2 GB each. Is this a LoRA?");
        }
        ByteBuffer b = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        try {
            readFully(channel, b, e.begin());
        } catch (IOException ex) {
            throw new EngineException(Kind.IO, "cannot read LoRA file " + file + ": " + ex.getMessage(), ex);
        }
        b.flip();
        float[] out = new float[(int) e.elements()];
        switch (e.dtype()) {
            case F32 -> b.asFloatBuffer().get(out);
            case F16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.float16ToFloat(b.getShort());
                }
            }
            case BF16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
                }
            }
            case F64 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = (float) b.getDouble();
                }
            }
        }
        return out;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long pos = position;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) {
                throw new IOException("unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    private static EngineException corrupt(Path file, String why) {
        return new EngineException(Kind.CORRUPT_FILE, "LoRA file " + file + " is not a valid .safetensors file: "
                + why + ". Download it again.");
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing was read through it
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }
}
