package dev.sd3studio.engine.format;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The header of a {@code .safetensors} model file, checked against the file before anything trusts it:
 * an 8-byte little-endian length N, N bytes of UTF-8 JSON ({@code name → {dtype, shape, data_offsets}}
 * plus an optional {@code __metadata__}), then the tensors, tensor {@code t} at file position
 * {@code 8 + N + data_offsets[0]}.
 * <p>
 * Checked: N fits the file; the JSON is one object without duplicate names; every range lies inside the
 * file, no two overlap, and each is exactly {@code shape × dtype size} bytes. A dtype this code does not
 * know is kept by name (its size cannot be checked, its range still is) so that whoever needs the tensor
 * can say which type it is. Only the header is read; nothing in the file is ever executed.
 * <p>
 * Checkpoints (which only need the header) and LoRA files (whose tensors are then read through the same
 * channel, {@code lora.SafetensorsReader}) are both read through this class.
 */
public final class SafetensorsHeader {
    /** Real model headers are well under a megabyte (SD3.5 Large: ~1,500 tensors); this bounds the read. */
    static final long MAX_HEADER_BYTES = 100L << 20;
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Path file;
    private final long fileSize;
    private final Map<String, StoredTensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsHeader(Path file, long fileSize, Map<String, StoredTensor> tensors, Map<String, String> metadata) {
        this.file = file;
        this.fileSize = fileSize;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Reads and checks the header of {@code file}; {@code what} names the file in messages ("checkpoint"). */
    public static SafetensorsHeader read(Path file, String what) throws EngineException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return parse(file, what, ch);
        } catch (IOException e) {
            throw cannotRead(file, what, e);
        }
    }

    /**
     * Reads and checks the header through {@code channel}, open on {@code file}, which the caller keeps open
     * to read the tensors from: the bytes it reads are those of the file whose header was checked.
     */
    public static SafetensorsHeader read(Path file, String what, FileChannel channel) throws EngineException {
        try {
            return parse(file, what, channel);
        } catch (IOException e) {
            throw cannotRead(file, what, e);
        }
    }

    private static SafetensorsHeader parse(Path file, String what, FileChannel ch) throws IOException, EngineException {
        long size = ch.size();
        if (size < 8) {
            throw corrupt(file, what, "it is only " + size + " bytes long, so it is truncated or not a safetensors file");
        }
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, len, 0);
        long headerLength = len.flip().getLong();
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
            throw corrupt(file, what, "its header claims " + Long.toUnsignedString(headerLength)
                    + " bytes but the file has " + size + (headerLength > size - 8 && headerLength <= MAX_HEADER_BYTES
                    ? "; the file is truncated" : ""));
        }
        ByteBuffer header = ByteBuffer.allocate((int) headerLength);
        readFully(ch, header, 8);
        JsonNode root;
        try {
            String text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(header.flip()).toString();
            root = JSON.readTree(text);
        } catch (CharacterCodingException e) {
            throw corrupt(file, what, "its header is not UTF-8 text");
        } catch (IOException e) {
            throw corrupt(file, what, "its header is not valid JSON (" + firstLine(e.getMessage()) + ")");
        }
        if (root == null || !root.isObject()) {
            throw corrupt(file, what, "its header is not a JSON object");
        }
        long dataStart = 8 + headerLength;
        Map<String, StoredTensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals("__metadata__")) {
                if (f.getValue().isObject()) {
                    f.getValue().properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
                }
                continue;
            }
            tensors.put(f.getKey(), tensor(file, what, f.getKey(), f.getValue(), dataStart, size));
        }
        requireNoOverlap(file, what, tensors.values());
        return new SafetensorsHeader(file, size, Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(metadata));
    }

    private static StoredTensor tensor(Path file, String what, String name, JsonNode n, long dataStart, long size)
            throws EngineException {
        JsonNode dtypeNode = n.path("dtype");
        JsonNode shapeNode = n.path("shape");
        JsonNode offsets = n.path("data_offsets");
        if (!dtypeNode.isTextual() || !shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2
                || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()
                || !offsets.get(0).isIntegralNumber() || !offsets.get(1).isIntegralNumber()) {
            throw corrupt(file, what, "tensor '" + name + "' has no valid dtype, shape or data_offsets");
        }
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        boolean overflow = false;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw corrupt(file, what, "tensor '" + name + "' has an invalid shape " + shapeNode);
            }
            shape[i] = d.asLong();
            try {
                elements = Math.multiplyExact(elements, shape[i]);
            } catch (ArithmeticException e) {
                overflow = true;
            }
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        long dataSize = size - dataStart;
        if (begin < 0 || end < begin) {
            throw corrupt(file, what, "tensor '" + name + "' has a reversed or negative byte range " + offsets);
        }
        if (end > dataSize) {
            throw corrupt(file, what, "tensor '" + name + "' ends at byte " + (dataStart + end) + " but the file has "
                    + size + " bytes; the file is truncated or its header is wrong");
        }
        String dtypeName = dtypeNode.asText();
        SafetensorsDType dtype = SafetensorsDType.named(dtypeName).orElse(null);
        if (dtype != null) {
            long expected = overflow ? -1 : elements * dtype.bytes();
            if (overflow || expected / dtype.bytes() != elements || expected != end - begin) {
                throw corrupt(file, what, "tensor '" + name + "' holds " + (end - begin) + " bytes, but " + dtypeName
                        + " " + shapeNode + " needs " + (overflow || expected < 0 ? "more than the file has"
                        : expected + " bytes"));
            }
        }
        return new StoredTensor(name, dtypeName, dtype, shape, dataStart + begin, end - begin);
    }

    /** Two tensors sharing bytes would let one write (a LoRA merge, a cast) show up in the other. */
    private static void requireNoOverlap(Path file, String what, Iterable<StoredTensor> tensors) throws EngineException {
        List<StoredTensor> sorted = new ArrayList<>();
        tensors.forEach(t -> {
            if (t.length() > 0) {
                sorted.add(t);
            }
        });
        sorted.sort(Comparator.comparingLong(StoredTensor::offset));
        for (int i = 1; i < sorted.size(); i++) {
            StoredTensor a = sorted.get(i - 1);
            StoredTensor b = sorted.get(i);
            if (b.offset() < a.offset() + a.length()) {
                throw corrupt(file, what, "tensors '" + a.name() + "' and '" + b.name() + "' overlap in the file");
            }
        }
    }

    public Path file() {
        return file;
    }

    public long fileSize() {
        return fileSize;
    }

    /** Every tensor by name, in header order. */
    public Map<String, StoredTensor> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** Fills {@code b} from {@code position} on: one positional read may return fewer bytes than asked. */
    public static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long pos = position;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) {
                throw new IOException("unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    private static String firstLine(String s) {
        return String.valueOf(s).lines().findFirst().orElse("");
    }

    /** An I/O failure reading {@code file}, as the user is told it. */
    public static EngineException cannotRead(Path file, String what, IOException e) {
        return new EngineException(Kind.IO, "cannot read " + what + " " + file + ": " + e.getMessage()
                + ". Check the path and its permissions.", e);
    }

    /** The file is damaged or not a safetensors file: {@code why} says what is wrong with it. */
    public static EngineException corrupt(Path file, String what, String why) {
        return new EngineException(Kind.CORRUPT_FILE, what + " " + file + " is not a valid .safetensors file: "
                + why + ". Download it again.");
    }
}
