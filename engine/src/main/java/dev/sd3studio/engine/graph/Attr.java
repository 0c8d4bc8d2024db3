package dev.sd3studio.engine.graph;

import com.google.protobuf.ByteString;
import dev.sd3studio.engine.onnx.AttributeProto;
import dev.sd3studio.engine.onnx.AttributeProto.AttributeType;

/** Node attributes, built without the protobuf ceremony. */
public final class Attr {
    private Attr() {
    }

    public static AttributeProto i(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(value).build();
    }

    public static AttributeProto f(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOAT).setF(value).build();
    }

    public static AttributeProto s(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(value)).build();
    }

    public static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS);
        for (long v : values) {
            b.addInts(v);
        }
        return b.build();
    }
}
