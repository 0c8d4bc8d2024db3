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
        return matching(ALL, w, h);
    }

    public static SizePreset matching(List<SizePreset> among, int w, int h) {
        return among.stream().filter(p -> p != CUSTOM && p.width == w && p.height == h).findFirst().orElse(CUSTOM);
    }

    /** Presets for the sizes a model was trained for, then Custom. */
    public static List<SizePreset> of(List<int[]> sizes) {
        List<SizePreset> out = new java.util.ArrayList<>();
        for (int[] s : sizes) {
            out.add(new SizePreset(s[0] == s[1] ? "Trained size" : s[0] > s[1] ? "Trained landscape" : "Trained portrait",
                    s[0], s[1]));
        }
        out.add(CUSTOM);
        return List.copyOf(out);
    }

    @Override
    public String toString() {
        return this == CUSTOM ? label : label + " (" + width + "×" + height + ")";
    }
}
