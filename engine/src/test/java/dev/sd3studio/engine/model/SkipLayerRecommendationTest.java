package dev.sd3studio.engine.model;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.Sd3Generator.ModelInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The family, told from the transformer's shapes, decides the skip layers the studio fills in. */
class SkipLayerRecommendationTest {
    @TempDir
    Path tmp;

    private TransformerConfig config(String json) throws Exception {
        return TransformerConfig.read(Files.writeString(tmp.resolve("config.json"), json));
    }

    @Test
    void sd35MediumGetsSevenEightNineAndOtherFamiliesNone() throws Exception {
        String medium = "{\"num_layers\": 24, \"qk_norm\": \"rms_norm\", \"dual_attention_layers\": [0,1,2,3,4,5,6,7,8,9,10,11,12]}";
        assertEquals(List.of(7, 8, 9), config(medium).recommendedSkipLayers());
        assertEquals(24, config(medium).numLayers());
        // SD3.5 Large: query/key norm, no dual attention; SD3 Medium: neither
        assertEquals(List.of(), config("{\"num_layers\": 38, \"qk_norm\": \"rms_norm\", \"dual_attention_layers\": []}")
                .recommendedSkipLayers());
        assertEquals(List.of(), config("{\"num_layers\": 24, \"qk_norm\": null}").recommendedSkipLayers());
        // the tiny SD3.5 fixture has the family's shapes but two blocks: 7, 8, 9 do not exist there
        assertEquals(List.of(), TransformerConfig.read(Fixtures.model("tiny-sd35").resolve("transformer/config.json"))
                .recommendedSkipLayers());
    }

    @Test
    void modelInfoWithoutSkipLayerFactsKeepsItsOldShape() {
        ModelInfo info = new ModelInfo("m", 64, 64, 16, true, true, "latent2rgb", List.of());
        assertEquals(0, info.transformerBlocks());
        assertEquals(List.of(), info.recommendedSkipLayers());
    }
}
