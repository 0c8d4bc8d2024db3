package dev.sd3studio.engine.runtime;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Converts a model to fp16 at test time, for an end-to-end test of fp16 exports. Every float32 weight
 * matrix (an initializer of two or more dimensions stored in the file) becomes a float16 initializer
 * followed by a Cast back to float32 under the weight's own name: the layout of an fp16 export on the
 * CPU, where ORT has no fp16 MatMul and works through such casts. Optionally the float inputs and
 * outputs become fp16 as well. Other nodes stay as they are, so the result differs from the original
 * by fp16 rounding only. Reads and writes the protobuf wire format directly (ModelProto.graph = 7;
 * GraphProto.node = 1, .initializer = 5, .input = 11, .output = 12; TensorProto.dims = 1,
 * .data_type = 2, .name = 8, .raw_data = 9).
 */
public final class Fp16Weights {
    private static final int FLOAT = 1;
    private static final int FLOAT16 = 10;

    /** What a conversion did: the new model and how many weights it stored as fp16. */
    public record Result(byte[] model, int converted) {
    }

    private Fp16Weights() {
    }

    public static Result convert(byte[] model) {
        return convert(model, false);
    }

    /**
     * With {@code halfInterface}, also every float32 graph input and output becomes float16 (a Cast
     * inside the graph turns each back to the float32 the nodes expect), as in an fp16 export.
     */
    public static Result convert(byte[] model, boolean halfInterface) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] converted = new int[1];
        Reader r = new Reader(model, 0, model.length);
        while (r.more()) {
            int start = r.pos;
            long tag = r.varint();
            if (tag == ((7 << 3) | 2)) {
                Reader g = r.sub();
                field(out, 7, graph(g, converted, halfInterface));
            } else {
                r.skip((int) (tag & 7));
                out.write(model, start, r.pos - start);
            }
        }
        return new Result(out.toByteArray(), converted[0]);
    }

    private static byte[] graph(Reader g, int[] converted, boolean halfInterface) {
        java.util.Map<String, String> renamed = new java.util.HashMap<>();
        ByteArrayOutputStream casts = new ByteArrayOutputStream();
        ByteArrayOutputStream outputCasts = new ByteArrayOutputStream();
        if (halfInterface) {
            Reader scan = new Reader(g.buf, g.pos, g.end);
            while (scan.more()) {
                long tag = scan.varint();
                int number = (int) (tag >>> 3);
                if ((number == 11 || number == 12) && (tag & 7) == 2) {
                    Reader v = scan.sub();
                    String name = nameOf(java.util.Arrays.copyOfRange(g.buf, v.pos, v.end), 1);
                    if (elemType(java.util.Arrays.copyOfRange(g.buf, v.pos, v.end)) == FLOAT) {
                        renamed.put(name, name + "_fp32");
                        if (number == 11) {
                            field(casts, 1, castNode(name, name + "_fp32", FLOAT));
                        } else {
                            field(outputCasts, 1, castNode(name + "_fp32", name, FLOAT16));
                        }
                    }
                } else {
                    scan.skip((int) (tag & 7));
                }
            }
        }
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        while (g.more()) {
            int start = g.pos;
            long tag = g.varint();
            int number = (int) (tag >>> 3);
            if (halfInterface && (number == 11 || number == 12) && (tag & 7) == 2) {
                Reader v = g.sub();
                byte[] info = java.util.Arrays.copyOfRange(g.buf, v.pos, v.end);
                field(rest, number, elemType(info) == FLOAT ? withElemType(info, FLOAT16) : info);
            } else if (halfInterface && number == 1 && (tag & 7) == 2) {
                Reader n = g.sub();
                field(rest, 1, renameNodeTensors(java.util.Arrays.copyOfRange(g.buf, n.pos, n.end), renamed));
            } else if (tag == ((5 << 3) | 2)) {
                Reader t = g.sub();
                byte[] original = java.util.Arrays.copyOfRange(g.buf, t.pos, t.end);
                byte[] half = halfWeight(t);
                if (half == null) {
                    field(rest, 5, original);
                } else {
                    String name = nameOf(original);
                    field(rest, 5, half);
                    field(casts, 1, castNode(name + "_fp16", name, FLOAT));
                    converted[0]++;
                }
            } else {
                g.skip((int) (tag & 7));
                rest.write(g.buf, start, g.pos - start);
            }
        }
        // the casts depend on initializers and inputs only, so they can lead the (topologically sorted)
        // node list; the casts to the outputs end it
        casts.writeBytes(rest.toByteArray());
        casts.writeBytes(outputCasts.toByteArray());
        return casts.toByteArray();
    }

    /** ValueInfoProto.type(2).tensor_type(1).elem_type(1), or 0. */
    private static int elemType(byte[] valueInfo) {
        byte[] tensorType = child(child(valueInfo, 2), 1);
        Reader r = new Reader(tensorType, 0, tensorType.length);
        while (r.more()) {
            long tag = r.varint();
            if (tag == (1 << 3)) {
                return (int) r.varint();
            }
            r.skip((int) (tag & 7));
        }
        return 0;
    }

    private static byte[] withElemType(byte[] valueInfo, int type) {
        return replaceChild(valueInfo, 2, replaceChild(child(valueInfo, 2), 1,
                replaceVarint(child(child(valueInfo, 2), 1), 1, type)));
    }

    /** NodeProto inputs (1) and outputs (2) renamed through {@code renamed}; everything else kept. */
    private static byte[] renameNodeTensors(byte[] node, java.util.Map<String, String> renamed) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Reader r = new Reader(node, 0, node.length);
        while (r.more()) {
            int start = r.pos;
            long tag = r.varint();
            int number = (int) (tag >>> 3);
            if ((number == 1 || number == 2) && (tag & 7) == 2) {
                Reader s = r.sub();
                String name = new String(node, s.pos, s.end - s.pos, StandardCharsets.UTF_8);
                field(out, number, renamed.getOrDefault(name, name).getBytes(StandardCharsets.UTF_8));
            } else {
                r.skip((int) (tag & 7));
                out.write(node, start, r.pos - start);
            }
        }
        return out.toByteArray();
    }

    /** The first length-delimited field {@code number} of {@code message}, or nothing. */
    private static byte[] child(byte[] message, int number) {
        Reader r = new Reader(message, 0, message.length);
        while (r.more()) {
            long tag = r.varint();
            if (tag == (((long) number << 3) | 2)) {
                Reader s = r.sub();
                return java.util.Arrays.copyOfRange(message, s.pos, s.end);
            }
            r.skip((int) (tag & 7));
        }
        return new byte[0];
    }

    private static byte[] replaceChild(byte[] message, int number, byte[] body) {
        ByteArrayOutputStream field = new ByteArrayOutputStream();
        field(field, number, body);
        return replaceField(message, ((long) number << 3) | 2, field.toByteArray());
    }

    private static byte[] replaceVarint(byte[] message, int number, long value) {
        ByteArrayOutputStream field = new ByteArrayOutputStream();
        varintField(field, number, value);
        return replaceField(message, (long) number << 3, field.toByteArray());
    }

    /** {@code message} with every field of {@code tag} replaced by {@code encoded} (tag included). */
    private static byte[] replaceField(byte[] message, long tag, byte[] encoded) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Reader r = new Reader(message, 0, message.length);
        while (r.more()) {
            int start = r.pos;
            long t = r.varint();
            r.skip((int) (t & 7));
            if (t == tag) {
                out.writeBytes(encoded);
            } else {
                out.write(message, start, r.pos - start);
            }
        }
        return out.toByteArray();
    }

    /** The fp16 version of a float32 tensor of rank ≥ 2 held in raw_data, or null to keep it. */
    private static byte[] halfWeight(Reader t) {
        java.util.List<Long> dims = new java.util.ArrayList<>();
        int type = 0;
        String name = null;
        byte[] raw = null;
        boolean other = false;
        while (t.more()) {
            long tag = t.varint();
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            if (field == 1 && wire == 0) {
                dims.add(t.varint());
            } else if (field == 1 && wire == 2) {
                Reader packed = t.sub();
                while (packed.more()) {
                    dims.add(packed.varint());
                }
            } else if (field == 2 && wire == 0) {
                type = (int) t.varint();
            } else if (field == 8 && wire == 2) {
                Reader s = t.sub();
                name = new String(t.buf, s.pos, s.end - s.pos, StandardCharsets.UTF_8);
            } else if (field == 9 && wire == 2) {
                Reader s = t.sub();
                raw = java.util.Arrays.copyOfRange(t.buf, s.pos, s.end);
            } else {
                other = true; // external data, typed data fields, doc strings: leave such tensors alone
                t.skip(wire);
            }
        }
        if (type != FLOAT || dims.size() < 2 || raw == null || name == null || other) {
            return null;
        }
        ByteBuffer in = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer half = ByteBuffer.allocate(raw.length / 2).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            half.putShort(Float.floatToFloat16(in.getFloat()));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (long d : dims) {
            varintField(out, 1, d);
        }
        varintField(out, 2, FLOAT16);
        field(out, 8, (name + "_fp16").getBytes(StandardCharsets.UTF_8));
        field(out, 9, half.array());
        return out.toByteArray();
    }

    private static String nameOf(byte[] tensor) {
        return nameOf(tensor, 8);
    }

    /** The string field {@code number} (a tensor's name is 8, a value info's 1). */
    private static String nameOf(byte[] tensor, int number) {
        Reader t = new Reader(tensor, 0, tensor.length);
        while (t.more()) {
            long tag = t.varint();
            if (tag == (((long) number << 3) | 2)) {
                Reader s = t.sub();
                return new String(tensor, s.pos, s.end - s.pos, StandardCharsets.UTF_8);
            }
            t.skip((int) (tag & 7));
        }
        throw new IllegalArgumentException("no name (field " + number + ")");
    }

    private static byte[] castNode(String input, String output, int to) {
        ByteArrayOutputStream attribute = new ByteArrayOutputStream();
        field(attribute, 1, "to".getBytes(StandardCharsets.UTF_8));
        varintField(attribute, 3, to);
        varintField(attribute, 20, 2); // AttributeType.INT
        ByteArrayOutputStream node = new ByteArrayOutputStream();
        field(node, 1, input.getBytes(StandardCharsets.UTF_8));
        field(node, 2, output.getBytes(StandardCharsets.UTF_8));
        field(node, 3, ("cast_" + output).getBytes(StandardCharsets.UTF_8));
        field(node, 4, "Cast".getBytes(StandardCharsets.UTF_8));
        field(node, 5, attribute.toByteArray());
        return node.toByteArray();
    }

    private static void field(ByteArrayOutputStream out, int number, byte[] body) {
        varint(out, ((long) number << 3) | 2);
        varint(out, body.length);
        out.writeBytes(body);
    }

    private static void varintField(ByteArrayOutputStream out, int number, long value) {
        varint(out, (long) number << 3);
        varint(out, value);
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static final class Reader {
        final byte[] buf;
        int pos;
        final int end;

        Reader(byte[] buf, int pos, int end) {
            this.buf = buf;
            this.pos = pos;
            this.end = end;
        }

        boolean more() {
            return pos < end;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; ; shift += 7) {
                byte b = buf[pos++];
                v |= (long) (b & 0x7F) << shift;
                if (b >= 0) {
                    return v;
                }
            }
        }

        /** The length-delimited field that starts here; this reader moves past it. */
        Reader sub() {
            int length = (int) varint();
            Reader r = new Reader(buf, pos, pos + length);
            pos += length;
            return r;
        }

        void skip(int wire) {
            switch (wire) {
                case 0 -> varint();
                case 1 -> pos += 8;
                case 2 -> {
                    int length = (int) varint(); // read first: "pos += varint()" would add to the old pos
                    pos += length;
                }
                case 5 -> pos += 4;
                default -> throw new IllegalArgumentException("wire type " + wire);
            }
        }
    }
}
