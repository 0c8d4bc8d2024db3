package dev.sd3studio.engine.lora;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.format.ElementDecoder;
import dev.sd3studio.engine.format.SafetensorsDType;
import dev.sd3studio.engine.format.SafetensorsHeader;
import dev.sd3studio.engine.format.StoredTensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;

/**
 * A LoRA {@code .safetensors} file held open: its header is read and checked by {@link SafetensorsHeader}
 * (the checkpoints' reader, so a LoRA is held to the same rules: ranges inside the file, no overlaps, no
 * duplicate names, sizes that match), and each tensor is read on demand with a positional read through the
 * same channel, so a multi-hundred-MB file never sits in the heap. Nothing in the file is executed.
 */
final class SafetensorsReader implements AutoCloseable {
    /** How messages name the file. */
    private static final String WHAT = "LoRA file";
    /** What one heap buffer can hold. */
    private static final long MAX_TENSOR_BYTES = Integer.MAX_VALUE - 8;

    private final FileChannel channel;
    private final SafetensorsHeader header;

    private SafetensorsReader(FileChannel channel, SafetensorsHeader header) {
        this.channel = channel;
        this.header = header;
    }

    public static SafetensorsReader open(Path file) throws EngineException {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw SafetensorsHeader.cannotRead(file, WHAT, e);
        }
        try {
            SafetensorsHeader header = SafetensorsHeader.read(file, WHAT, ch);
            requireIntDimensions(header);
            return new SafetensorsReader(ch, header);
        } catch (EngineException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    /**
     * The LoRA code takes a rank or a feature count from one axis as an int; an axis beside a zero one
     * holds no bytes, so the header's size check alone does not bound it.
     */
    private static void requireIntDimensions(SafetensorsHeader header) throws EngineException {
        for (StoredTensor t : header.tensors().values()) {
            for (long d : t.shape()) {
                if (d > Integer.MAX_VALUE) {
                    throw SafetensorsHeader.corrupt(header.file(), WHAT,
                            "tensor '" + t.name() + "' has an invalid shape " + Arrays.toString(t.shape()));
                }
            }
        }
    }

    public Path file() {
        return header.file();
    }

    /** Every tensor by name, in header order. */
    public Map<String, StoredTensor> tensors() {
        return header.tensors();
    }

    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** One tensor as float32, whatever floating-point type it is stored in (decoded exactly where it can be). */
    public float[] readFloats(String name) throws EngineException {
        StoredTensor t = header.tensors().get(name);
        if (t == null) {
            throw new EngineException(Kind.CORRUPT_FILE, WHAT + " " + file() + " has no tensor '" + name + "'");
        }
        SafetensorsDType type = t.dtype();
        if (type == null || !type.isFloat()) {
            throw new EngineException(Kind.INCOMPATIBLE_MODEL, "tensor '" + name + "' in " + file() + " is "
                    + t.dtypeName() + ", a type SD3 Studio cannot merge; F32, F16, BF16, F64 and F8 LoRAs are"
                    + " supported.");
        }
        // Bounded by bytes, the larger of the two (the header checked bytes = elements × the type's size).
        if (t.length() > MAX_TENSOR_BYTES) {
            throw new EngineException(Kind.INCOMPATIBLE_MODEL, "tensor '" + name + "' in " + file() + " is "
                    + t.length() + " bytes; SD3 Studio reads LoRA tensors of up to 2 GB each. Is this a LoRA?");
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) t.length());
        try {
            SafetensorsHeader.readFully(channel, bytes, t.offset());
        } catch (IOException e) {
            throw SafetensorsHeader.cannotRead(file(), WHAT, e);
        }
        float[] out = new float[(int) t.elements()];
        ElementDecoder.decode(type, bytes.flip(), out);
        return out;
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
