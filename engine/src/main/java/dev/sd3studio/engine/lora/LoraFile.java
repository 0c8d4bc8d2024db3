package dev.sd3studio.engine.lora;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * An opened LoRA: its {@code .safetensors} reader and its keys grouped into modules. Pickled PyTorch
 * files ({@code .bin}, {@code .pt}, {@code .ckpt}, zip or raw pickle) are refused before anything is
 * read from them: unpickling can run arbitrary code.
 */
final class LoraFile implements AutoCloseable {
    private final SafetensorsReader reader;
    private final LoraKeys.Parsed keys;

    private LoraFile(SafetensorsReader reader, LoraKeys.Parsed keys) {
        this.reader = reader;
        this.keys = keys;
    }

    public static LoraFile open(Path file) throws EngineException {
        if (!Files.isRegularFile(file)) {
            throw new EngineException(Kind.IO, "LoRA file " + file + " does not exist; check the path.");
        }
        refusePickle(file);
        SafetensorsReader reader = SafetensorsReader.open(file);
        return new LoraFile(reader, LoraKeys.parse(reader.tensors().keySet()));
    }

    private static void refusePickle(Path file) throws EngineException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean pickleName = name.endsWith(".bin") || name.endsWith(".pt") || name.endsWith(".pth")
                || name.endsWith(".ckpt") || name.endsWith(".pkl");
        byte[] head = new byte[2];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, 2);
            // torch.save writes a zip ("PK"); older files are a raw pickle (protocol opcode 0x80).
            boolean pickleBytes = n == 2 && ((head[0] == 'P' && head[1] == 'K') || (head[0] & 0xff) == 0x80);
            if (pickleName || pickleBytes) {
                throw new EngineException(Kind.INVALID_REQUEST, "LoRA file " + file + " is a pickled PyTorch file;"
                        + " loading it could run code hidden in it, so SD3 Studio reads only .safetensors LoRAs."
                        + " Use the .safetensors version of this LoRA (or convert it once with safetensors' tools).");
            }
        } catch (IOException e) {
            throw new EngineException(Kind.IO, "cannot read LoRA file " + file + ": " + e.getMessage(), e);
        }
    }

    public Path path() {
        return reader.file();
    }

    public LoraKeys.Parsed keys() {
        return keys;
    }

    public SafetensorsReader reader() {
        return reader;
    }

    /** The rank: rows of the down (A) matrix. */
    public int rank(LoraModule m) {
        return (int) shape(m.down())[0];
    }

    public long[] shape(String tensor) {
        return reader.tensors().get(tensor).shape();
    }

    /** The module's alpha, or its rank when the file has none (diffusers' rule). */
    public double alpha(LoraModule m) throws EngineException {
        if (m.alpha() == null) {
            return rank(m);
        }
        float[] a = reader.readFloats(m.alpha());
        if (a.length != 1) {
            throw new EngineException(Kind.CORRUPT_FILE, "alpha " + m.alpha() + " in " + path()
                    + " should be one number but has " + a.length);
        }
        return a[0];
    }

    @Override
    public void close() {
        reader.close();
    }
}
