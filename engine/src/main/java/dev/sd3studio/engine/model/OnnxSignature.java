package dev.sd3studio.engine.model;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A graph's inputs and outputs read straight from the ONNX protobuf, without ONNX Runtime and
 * without reading the weights: nodes and initializers are skipped by seeking past them, so a 10 GB
 * inline graph costs a few reads and an external-data graph a few kilobytes. Field numbers from
 * onnx.proto: ModelProto.graph = 7; GraphProto.node = 1, initializer = 5, input = 11, output = 12;
 * ValueInfoProto.name = 1, type = 2; TypeProto.tensor_type = 1; Tensor.elem_type = 1, shape = 2;
 * TensorShapeProto.dim = 1; Dimension.dim_value = 1, dim_param = 2; TensorProto.name = 8.
 */
public record OnnxSignature(List<Port> inputs, List<Port> outputs) {
    /** One graph input or output: its element type as ONNX names it, and its dimensions (-1 with a name when symbolic). */
    public record Port(String name, String elementType, long[] shape, String[] dimensionNames) {
        /** "input_ids int64 [batch_size, 77]": the form check-model prints. */
        public String describe() {
            StringBuilder s = new StringBuilder(name).append(' ').append(elementType).append(" [");
            for (int i = 0; i < shape.length; i++) {
                if (i > 0) {
                    s.append(", ");
                }
                s.append(shape[i] >= 0 ? Long.toString(shape[i])
                        : dimensionNames[i] != null && !dimensionNames[i].isEmpty() ? dimensionNames[i] : "?");
            }
            return s.append(']').toString();
        }

        /** The dimension at {@code axis}, or -1 when it is symbolic or absent. */
        public long dim(int axis) {
            return axis < shape.length ? shape[axis] : -1;
        }
    }

    private static final String[] ELEMENT_TYPES = {"undefined", "float", "uint8", "int8", "uint16", "int16",
        "int32", "int64", "string", "bool", "float16", "double", "uint32", "uint64", "complex64", "complex128",
        "bfloat16"};

    public Port input(String name) {
        return inputs.stream().filter(p -> p.name().equals(name)).findFirst().orElse(null);
    }

    /** Reads {@code file}'s signature; a file that is not an ONNX model fails as CORRUPT_FILE. */
    public static OnnxSignature read(Path file) throws EngineException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            Reader in = new Reader(channel);
            long size = channel.size();
            while (in.position() < size) {
                long tag = in.varint();
                if (tag >>> 3 == 7 && (tag & 7) == 2) {
                    long length = in.varint();
                    return graph(in, in.position() + length);
                }
                in.skipField(tag);
            }
            throw new EngineException(Kind.CORRUPT_FILE, file + " holds no ONNX graph; download this component again.");
        } catch (IOException | RuntimeException e) {
            throw new EngineException(Kind.CORRUPT_FILE, file + " is not a readable ONNX model (" + e.getMessage()
                    + "); download this component again.", e);
        }
    }

    private static OnnxSignature graph(Reader in, long end) throws IOException {
        List<Port> inputs = new ArrayList<>();
        List<Port> outputs = new ArrayList<>();
        Set<String> initializers = new HashSet<>();
        while (in.position() < end) {
            long tag = in.varint();
            int field = (int) (tag >>> 3);
            if ((tag & 7) == 2 && (field == 11 || field == 12)) {
                Port p = valueInfo(new Reader(ByteBuffer.wrap(in.bytes(Math.toIntExact(in.varint())))));
                (field == 11 ? inputs : outputs).add(p);
            } else if ((tag & 7) == 2 && field == 5) {
                long length = in.varint();
                initializers.add(tensorName(in, in.position() + length));
            } else {
                in.skipField(tag);
            }
        }
        // Graphs from before IR 4 list initializers among the inputs; they are weights, not inputs.
        inputs.removeIf(p -> initializers.contains(p.name()));
        return new OnnxSignature(List.copyOf(inputs), List.copyOf(outputs));
    }

    private static String tensorName(Reader in, long end) throws IOException {
        String name = "";
        while (in.position() < end) {
            long tag = in.varint();
            if (tag >>> 3 == 8 && (tag & 7) == 2) {
                name = new String(in.bytes(Math.toIntExact(in.varint())), StandardCharsets.UTF_8);
            } else {
                in.skipField(tag);
            }
        }
        return name;
    }

    private static Port valueInfo(Reader in) throws IOException {
        String name = "";
        String type = "undefined";
        List<Long> dims = new ArrayList<>();
        List<String> names = new ArrayList<>();
        while (in.remaining()) {
            long tag = in.varint();
            if (tag >>> 3 == 1 && (tag & 7) == 2) {
                name = new String(in.bytes(Math.toIntExact(in.varint())), StandardCharsets.UTF_8);
            } else if (tag >>> 3 == 2 && (tag & 7) == 2) {
                Reader typeProto = in.sub();
                while (typeProto.remaining()) {
                    long t = typeProto.varint();
                    if (t >>> 3 == 1 && (t & 7) == 2) {
                        Reader tensor = typeProto.sub();
                        while (tensor.remaining()) {
                            long f = tensor.varint();
                            if (f >>> 3 == 1 && (f & 7) == 0) {
                                int code = (int) tensor.varint();
                                type = code >= 0 && code < ELEMENT_TYPES.length ? ELEMENT_TYPES[code]
                                        : "type" + code;
                            } else if (f >>> 3 == 2 && (f & 7) == 2) {
                                Reader shape = tensor.sub();
                                while (shape.remaining()) {
                                    long d = shape.varint();
                                    if (d >>> 3 == 1 && (d & 7) == 2) {
                                        dimension(shape.sub(), dims, names);
                                    } else {
                                        shape.skipField(d);
                                    }
                                }
                            } else {
                                tensor.skipField(f);
                            }
                        }
                    } else {
                        typeProto.skipField(t);
                    }
                }
            } else {
                in.skipField(tag);
            }
        }
        return new Port(name, type.toLowerCase(Locale.ROOT), dims.stream().mapToLong(Long::longValue).toArray(),
                names.toArray(String[]::new));
    }

    private static void dimension(Reader in, List<Long> dims, List<String> names) throws IOException {
        long value = -1;
        String param = null;
        while (in.remaining()) {
            long tag = in.varint();
            if (tag >>> 3 == 1 && (tag & 7) == 0) {
                value = in.varint();
            } else if (tag >>> 3 == 2 && (tag & 7) == 2) {
                param = new String(in.bytes(Math.toIntExact(in.varint())), StandardCharsets.UTF_8);
            } else {
                in.skipField(tag);
            }
        }
        dims.add(value);
        names.add(param);
    }

    /** Protobuf wire reading over a file (seeking past what is skipped) or over bytes in memory. */
    private static final class Reader {
        private final FileChannel channel;
        private final ByteBuffer buffer;
        private long bufferStart;

        Reader(FileChannel channel) {
            this.channel = channel;
            this.buffer = ByteBuffer.allocate(1 << 16).limit(0);
        }

        Reader(ByteBuffer bytes) {
            this.channel = null;
            this.buffer = bytes;
        }

        long position() {
            return bufferStart + buffer.position();
        }

        boolean remaining() {
            return buffer.hasRemaining();
        }

        private byte next() throws IOException {
            if (!buffer.hasRemaining()) {
                if (channel == null) {
                    throw new IOException("truncated message");
                }
                bufferStart += buffer.limit();
                buffer.clear();
                channel.position(bufferStart);
                if (channel.read(buffer) <= 0) {
                    throw new IOException("unexpected end of file");
                }
                buffer.flip();
            }
            return buffer.get();
        }

        long varint() throws IOException {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                byte b = next();
                v |= (long) (b & 0x7F) << shift;
                if (b >= 0) {
                    return v;
                }
            }
            throw new IOException("malformed varint");
        }

        byte[] bytes(int n) throws IOException {
            byte[] out = new byte[n];
            for (int i = 0; i < n; i++) {
                out[i] = next();
            }
            return out;
        }

        Reader sub() throws IOException {
            return new Reader(ByteBuffer.wrap(bytes(Math.toIntExact(varint()))));
        }

        void skip(long n) throws IOException {
            if (n < 0) {
                throw new IOException("negative length");
            }
            if (n <= buffer.remaining()) {
                buffer.position(buffer.position() + (int) n);
                return;
            }
            if (channel == null) {
                throw new IOException("truncated message");
            }
            long target = position() + n;
            if (target > channel.size()) {
                throw new IOException("unexpected end of file");
            }
            bufferStart = target;
            buffer.clear().limit(0);
        }

        void skipField(long tag) throws IOException {
            switch ((int) (tag & 7)) {
                case 0 -> varint();
                case 1 -> skip(8);
                case 2 -> skip(varint());
                case 5 -> skip(4);
                default -> throw new IOException("unsupported wire type " + (tag & 7));
            }
        }
    }
}
