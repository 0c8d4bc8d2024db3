package dev.sd3studio.app.hub;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Endpoint and token are found where huggingface_hub looks; repository ids parse as typed. */
class HubSettingsTest {
    @Test
    void tokenComesFromHfTokenThenTheTokenFile(@TempDir Path home) throws Exception {
        Path file = home.resolve(".cache/huggingface/token");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "hf_fromfile\n");
        assertEquals(Optional.of("hf_fromfile"), HubSettings.fromEnvironment(Map.of(), home).token());
        assertEquals(Optional.of("hf_env"), HubSettings.fromEnvironment(Map.of("HF_TOKEN", "hf_env"), home).token());
        Path custom = home.resolve("hfhome/token");
        Files.createDirectories(custom.getParent());
        Files.writeString(custom, "hf_home");
        assertEquals(Optional.of("hf_home"), HubSettings.fromEnvironment(Map.of("HF_HOME", home.resolve("hfhome").toString()), home).token());
        assertEquals(Optional.empty(), HubSettings.fromEnvironment(Map.of("HF_TOKEN_PATH", home.resolve("none").toString()), home).token());
    }

    @Test
    void endpointDefaultsToTheHubAndHonoursHfEndpoint(@TempDir Path home) {
        assertEquals("https://huggingface.co", HubSettings.fromEnvironment(Map.of(), home).endpoint().toString());
        assertEquals("http://mirror.local:8080", HubSettings.fromEnvironment(Map.of("HF_ENDPOINT", "http://mirror.local:8080/"), home)
                .endpoint().toString());
    }

    @Test
    void aBadEndpointIsRefusedWithAMessage(@TempDir Path home) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HubSettings.fromEnvironment(Map.of("HF_ENDPOINT", "huggingface.co"), home));
        assertTrue(e.getMessage().contains("not an http(s) URL"), e.getMessage());
    }

    @Test
    void repositoryIdsAndRevisions() {
        assertEquals(new RepoRef("a/b", "main"), RepoRef.parse("a/b"));
        assertEquals(new RepoRef("a/b", "refs/pr/3"), RepoRef.parse("https://huggingface.co/a/b@refs/pr/3"));
        assertEquals("a--b@refs_pr_3", RepoRef.parse("a/b@refs/pr/3").folderName());
        assertThrows(IllegalArgumentException.class, () -> RepoRef.parse("just-a-name"));
    }

    @Test
    void onlyTheFilesTheEngineLoads() {
        assertEquals(true, ModelFiles.wanted("transformer/model.onnx_data", false));
        assertEquals(true, ModelFiles.wanted("unet/model.onnx.data", false));
        assertEquals(false, ModelFiles.wanted("transformer/diffusion_pytorch_model.safetensors", false));
        assertEquals(false, ModelFiles.wanted("text_encoder_3/model.onnx", true));
        assertEquals(false, ModelFiles.wanted("sample.png", false));
        assertEquals(true, ModelFiles.wanted("model_index.json", false));
    }
}
