package dev.sd3studio.engine.format;

import dev.sd3studio.engine.format.ProtoFields.Field;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the readers of an ONNX graph's weights (the LoRA merge, the quantizer) take from one TensorProto:
 * its name, type, shape, and either its inline bytes or its external data entries. Where those bytes may be
 * read from is {@link ExternalDataFile}'s rule, applied by each reader. TensorProto: dims 1, data_type 2,
 * float_data 4, name 8, raw_data 9, external_data 13 (StringStringEntryProto: key 1, value 2), data_location 14.
 *
 * @param inline raw_data (or packed float_data of a FLOAT tensor), or null
 * @param external the external data entries (location, offset, length), empty when stored inline
 */
public record TensorFields(String name, int dataType, long[] dims, Field inline, Map<String, String> external) {
    private static final int FLOAT = 1;

    /** The fields of {@code tensor}, or null when it has no name. */
    public static TensorFields parse(List<Field> tensor) {
        String name = ProtoFields.firstString(tensor, 8);
        if (name == null) {
            return null;
        }
        int dataType = (int) ProtoFields.firstVarint(tensor, 2, 0);
        List<Long> dims = new ArrayList<>();
        Map<String, String> ext = new HashMap<>();
        for (Field f : tensor) {
            if (f.is(1, ProtoFields.VARINT)) {
                dims.add(f.value());
            } else if (f.is(1, ProtoFields.LENGTH)) {
                for (long d : ProtoFields.packedVarints(f.body())) {
                    dims.add(d);
                }
            } else if (f.is(13, ProtoFields.LENGTH)) {
                List<Field> entry = f.fields();
                ext.put(Objects.requireNonNullElse(ProtoFields.firstString(entry, 1), ""),
                        Objects.requireNonNullElse(ProtoFields.firstString(entry, 2), ""));
            }
        }
        boolean external = ProtoFields.firstVarint(tensor, 14, 0) == 1;
        Field raw = external ? null : ProtoFields.first(tensor, 9);
        if (!external && raw == null && dataType == FLOAT) {
            raw = ProtoFields.first(tensor, 4); // packed float_data: the same little-endian floats
        }
        return new TensorFields(name, dataType, dims.stream().mapToLong(Long::longValue).toArray(), raw,
                external ? Map.copyOf(ext) : Map.of());
    }

    public boolean isExternal() {
        return !external.isEmpty();
    }

    /** Where an external tensor's bytes are, as its entries say: a file name, an offset, a length (-1: to the end). */
    public record ExternalRef(String location, long offset, long length) {
    }

    /**
     * The external data entries read as numbers; null when stored inline or when there is no location.
     *
     * @throws IllegalArgumentException when offset or length is not a number
     */
    public ExternalRef externalRef() {
        String location = external.get("location");
        if (location == null) {
            return null;
        }
        return new ExternalRef(location, number(external.getOrDefault("offset", "0")),
                external.containsKey("length") ? number(external.get("length")) : -1);
    }

    private static long number(String text) {
        try {
            return Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("external data position \"" + text + "\" is not a number");
        }
    }
}
