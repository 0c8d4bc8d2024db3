package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.MemoryMode;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.model.Component;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static dev.sd3studio.engine.model.Component.TEXT_ENCODER;
import static dev.sd3studio.engine.model.Component.TEXT_ENCODER_2;
import static dev.sd3studio.engine.model.Component.TEXT_ENCODER_3;
import static dev.sd3studio.engine.model.Component.TRANSFORMER;
import static dev.sd3studio.engine.model.Component.VAE_DECODER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which sessions are open at each stage: offload keeps only the stage's own component (one text
 * encoder at a time; the preview decoder beside the MMDiT while denoising), resident keeps them all. {@code null} stands for the preview decoder.
 */
class OffloadTest {
    private static final GenerationRequest CAT = GenerationRequest.builder("a cat").optSteps(2).optSeed(1L)
            .optPreviewEvery(1).build();

    /** The open sessions when each stage began (the first time it began). */
    private static Map<String, Set<Component>> stages(Sd3Pipeline engine, GenerationRequest r) throws Exception {
        Map<String, Set<Component>> seen = new LinkedHashMap<>();
        engine.generate(r, new ProgressListener() {
            @Override
            public void stage(String name) {
                seen.putIfAbsent(name.replaceAll(" \\(.*\\)", ""), engine.openSessions());
            }
        }, CancelToken.none());
        seen.put("after", engine.openSessions());
        return seen;
    }

    @Test
    void offloadHoldsOnlyTheStagesOwnComponent() throws Exception {
        try (Sd3Pipeline engine = Sd3Pipeline.open(Fixtures.model("tiny-sd3"), EngineOptions.defaults()
                .withMemoryMode(MemoryMode.OFFLOAD).withPreviewModel(Fixtures.model("tiny-taesd3")))) {
            for (int run = 0; run < 2; run++) {
                Map<String, Set<Component>> s = stages(engine, CAT);
                assertEquals(Set.of(), s.get("load text_encoder"), s.toString());
                assertEquals(Set.of(), s.get("load text_encoder_2"), "CLIP-L is gone before CLIP-G loads: " + s);
                assertEquals(Set.of(), s.get("load text_encoder_3"), "T5-XXL, the largest, loads alone: " + s);
                assertEquals(Set.of(), s.get("load transformer"), "the text encoders are gone before the MMDiT loads: " + s);
                assertEquals(Set.of(TRANSFORMER), s.get("denoise"), s.toString());
                assertEquals(Set.of(), s.get("load vae_decoder"), "the MMDiT and the preview decoder are gone: " + s);
                assertEquals(Set.of(VAE_DECODER), s.get("decode"), s.toString());
                assertEquals(Set.of(), s.get("after"), "nothing stays open after an offload run: " + s);
            }
        }
    }

    @Test
    void residentKeepsEverySession() throws Exception {
        try (Sd3Pipeline engine = Sd3Pipeline.open(Fixtures.model("tiny-sd3"), EngineOptions.defaults()
                .withPreviewModel(Fixtures.model("tiny-taesd3")))) {
            Map<String, Set<Component>> s = stages(engine, CAT);
            Set<Component> all = new java.util.HashSet<>(Set.of(TEXT_ENCODER, TEXT_ENCODER_2, TEXT_ENCODER_3,
                    TRANSFORMER, VAE_DECODER));
            all.add(null);
            assertEquals(all, s.get("after"), s.toString());
        }
    }

    @Test
    void droppingT5WithoutAConfiguredWidthDoesNotLoadTheTransformerDuringEncode(@TempDir Path tmp) throws Exception {
        Path copy = copyModel(tmp);
        Path config = copy.resolve("transformer/config.json");
        Files.writeString(config, Files.readString(config).replaceAll("\"joint_attention_dim\": \\d+,", ""));
        try (Sd3Pipeline engine = Sd3Pipeline.open(copy, EngineOptions.defaults().withMemoryMode(MemoryMode.OFFLOAD))) {
            Map<String, Set<Component>> s = stages(engine, GenerationRequest.builder("a cat").optSteps(2).optSeed(1L)
                    .optPreviewEvery(0).optDropT5(true).build());
            assertEquals(Set.of(), s.get("load transformer"), "the transformer loads after encoding, alone: " + s);
            assertTrue(s.keySet().stream().toList().indexOf("load transformer")
                    > s.keySet().stream().toList().indexOf("load text_encoder_2"), s.toString());
        }
    }

    static Path copyModel(Path tmp) throws Exception {
        Path src = Fixtures.model("tiny-sd3");
        Path dst = tmp.resolve("model");
        try (Stream<Path> files = Files.walk(src)) {
            for (Path p : files.toList()) {
                Path target = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return dst;
    }
}
