package dev.sd3studio.app.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The bench keeps session creation out of the stage times and reports what ORT did not spend. */
class BenchSummaryTest {
    @Test
    void stageTimesExcludeSessionCreationAndSharesAddUp() {
        Map<String, Long> t = new LinkedHashMap<>();
        t.put("load_text_encoder", 100L);
        t.put("load_text_encoder_2", 200L);
        t.put("load_text_encoder_3", 700L);
        t.put("encode", 1500L);             // includes the three loads above
        t.put("load_transformer", 2000L);
        t.put("step_1", 3000L);
        t.put("step_2", 5000L);
        t.put("step_3", 4000L);
        t.put("denoise", 12000L);
        t.put("load_vae_decoder", 300L);
        t.put("decode", 900L);
        t.put("ort_run", 13000L);
        t.put("total", 20000L);

        ObjectNode json = BenchCommand.summary(t);

        assertEquals(3300, json.get("load_total_ms").asLong());
        assertEquals(500, json.get("encode_ms").asLong());
        assertEquals(4000, json.get("step_ms").asLong());
        assertEquals(900, json.get("decode_ms").asLong());
        assertEquals(2000, json.get("load_ms").get("transformer").asLong());
        assertEquals(16700, json.get("run_ms").asLong());
        assertEquals(0.165, json.get("load_share").asDouble(), 1e-9);
        assertEquals(0.185, json.get("outside_share").asDouble(), 1e-9);   // (20000 - 13000 - 3300) / 20000
    }
}
