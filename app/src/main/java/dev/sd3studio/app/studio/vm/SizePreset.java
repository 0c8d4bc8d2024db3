package dev.sd3studio.app.studio.vm;

import java.util.List;

/** Aspect presets suited to SD3 (about one megapixel, multiples of 64); "Custom" keeps the fields free. */
public record SizePreset(String label, int width, int height) {
    public static final SizePreset CUSTOM = new SizePreset("Custom", 0, 0);

    public static final List<SizePreset> ALL = List.of(
            new SizePreset("1:1 square", 1024, 1024),
            new SizePreset("9:7 landscape", 1152, 896),
            new SizePreset("7:9 portrait", 896, 1152),
            new SizePreset("3:2 landscape", 1216, 832),
            new SizePreset("2:3 portrait", 832, 1216),
            new SizePreset("16:9 wide", 1344, 768),
            new SizePreset("9:16 tall", 768, 1344),
            CUSTOM);

    public static SizePreset matching(int w, int h) {
        return ALL.stream().filter(p -> p.width == w && p.height == h).findFirst().orElse(CUSTOM);
    }

    @Override
    public String toString() {
        return this == CUSTOM ? label : label + " (" + width + "×" + height + ")";
    }
}
