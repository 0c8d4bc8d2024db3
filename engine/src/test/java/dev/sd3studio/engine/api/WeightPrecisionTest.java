package dev.sd3studio.engine.api;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightPrecisionTest {
    @Test
    void theCommandLineNamesReadBack() {
        for (WeightPrecision w : WeightPrecision.values()) {
            assertEquals(w, WeightPrecision.parse(w.label()));
        }
        assertEquals(WeightPrecision.INT8, WeightPrecision.parse(" INT8 "));
        assertThrows(IllegalArgumentException.class, () -> WeightPrecision.parse("int3"));
    }

    @Test
    void theEstimateCountsBlocksScalesAndZeroPoints() {
        long fp16 = 2_000_000_000L; // 1 G fp16 values
        assertEquals(fp16, WeightPrecision.STORED.estimatedBytes(fp16, 2));
        // int8, block 128: 8 + 40/128 bits per value; int4, block 32: 4 + 36/32 bits
        assertEquals(1_039_062_500L, WeightPrecision.INT8.estimatedBytes(fp16, 2));
        assertEquals(640_625_000L, WeightPrecision.INT4.estimatedBytes(fp16, 2));
        assertTrue(WeightPrecision.INT4.estimatedBytes(fp16, 4) < WeightPrecision.INT4.estimatedBytes(fp16, 2));
    }
}
