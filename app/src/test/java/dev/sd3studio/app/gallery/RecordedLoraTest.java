package dev.sd3studio.app.gallery;

import dev.sd3studio.app.studio.Fixtures;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.LoraSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LoRAs in a picture: recorded by name, SHA-256 and scale (no folder), found again only among the
 * user's LoRA folders, and never by a path the picture names.
 */
class RecordedLoraTest {
    private static final Path LORA = Fixtures.root().resolve("goldens-lora/sd3_lora_rank4/lora.safetensors");

    @TempDir
    Path tmp;

    @Test
    void aPictureRecordsNameHashAndTheScaleAsTheSliderShowsIt() throws Exception {
        double slider = 1.0;
        for (int i = 0; i < 4; i++) {
            slider -= 0.05; // four presses of the slider's block decrement
        }
        assertEquals("0.7999999999999998", Double.toString(slider));
        GenerationRequest r = GenerationRequest.builder().setPrompts(List.of("x")).optSize(64, 64).optSeed(1L)
                .optLoras(List.of(new LoraSpec(LORA, slider))).build();
        Map<String, String> m = PngMetadata.of(r, 0, "tiny");
        String sha = FileHashes.shared().sha256(LORA);
        assertEquals("lora.safetensors:0.8 sha256=" + sha, m.get("loras"));
        assertFalse(m.get("loras").contains(LORA.getParent().getFileName().toString()), "no folder is recorded");
        assertTrue(PngMetadata.parametersText(m).endsWith(", LoRAs: \"lora.safetensors:0.8\""), PngMetadata.parametersText(m));
        assertEquals(List.of(new RecordedLora("lora.safetensors", sha, 0.8)), RecordedLora.parseAll(m.get("loras")));
        assertEquals("1.0", RecordedLora.formatScale(1));
        assertEquals("0.125", RecordedLora.formatScale(0.125));
        assertEquals("-0.35", RecordedLora.formatScale(-0.35000000000000003));
    }

    @Test
    void olderPicturesFullPathsGiveOnlyTheirNameAndScale() {
        assertEquals(List.of(new RecordedLora("style.safetensors", null, 0.5),
                        new RecordedLora("x.safetensors", null, 1.0),
                        new RecordedLora("share.safetensors", null, 0.7)),
                RecordedLora.parseAll("/home/someone/loras/style.safetensors:0.5\nC:\\Users\\me\\x.safetensors\n"
                        + "\\\\evil-host\\share\\share.safetensors:0.7\n\n"));
        assertTrue(RecordedLora.parseAll(null).isEmpty());
        assertTrue(RecordedLora.parseAll("/etc/..:1.0").isEmpty(), "no usable name");
    }

    @Test
    void aLoraIsFoundByHashInTheUsersFoldersAndASameNamedOtherFileIsNot() throws Exception {
        Path impostor = Files.createDirectories(tmp.resolve("first"));
        Files.writeString(impostor.resolve("lora.safetensors"), "another file with the same name");
        Path mine = Files.createDirectories(tmp.resolve("mine"));
        Path real = Files.copy(LORA, mine.resolve("lora.safetensors"));
        Files.writeString(mine.resolve("unrelated.safetensors"), "never hashed: its name differs");
        String sha = FileHashes.shared().sha256(LORA);
        FileHashes hashes = new FileHashes();
        LoraFinder finder = new LoraFinder(List.of(impostor, mine), hashes);

        assertEquals(Optional.of(real), finder.find(new RecordedLora("lora.safetensors", sha, 0.8)));
        assertEquals(2, hashes.reads(), "only the two files of that name were read");
        assertEquals(Optional.of(real), finder.find(new RecordedLora("lora.safetensors", sha, 0.8)));
        assertEquals(2, hashes.reads(), "unchanged files are not read again");

        assertEquals(Optional.empty(), new LoraFinder(List.of(impostor), hashes)
                .find(new RecordedLora("lora.safetensors", sha, 1.0)), "same name, other SHA-256: not used");
        assertEquals(Optional.of(impostor.resolve("lora.safetensors")), new LoraFinder(List.of(impostor), hashes)
                .find(new RecordedLora("lora.safetensors", null, 1.0)), "an old record matches by name in the user's folder");
    }

    @Test
    void aPathThePictureNamesOutsideTheFoldersIsNeverUsed() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Path secret = Files.copy(LORA, outside.resolve("secret.safetensors"));
        Path mine = Files.createDirectories(tmp.resolve("mine"));
        String sha = FileHashes.shared().sha256(secret);
        FileHashes hashes = new FileHashes();
        LoraFinder.Found found = new LoraFinder(List.of(mine), hashes).findAll(
                secret.toAbsolutePath() + ":1.0\n"                       // an old picture's full path
                        + "../outside/secret.safetensors:1.0 sha256=" + sha + "\n"   // a crafted relative one
                        + "/etc/passwd:1.0");
        assertTrue(found.specs().isEmpty(), found.specs().toString());
        assertEquals(List.of("'secret.safetensors'", "'secret.safetensors' (sha256 " + sha.substring(0, 8) + "…)",
                "'passwd'"), found.missing().stream().map(RecordedLora::label).toList());
        assertEquals(0, hashes.reads(), "nothing outside the user's folders was read");
    }
}
