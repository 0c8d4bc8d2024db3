package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.AppVersion;
import dev.sd3studio.app.settings.AppDirs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The About dialog's facts, without a toolkit: the real ONNX Runtime, the device rules, the notices. */
class AboutInfoTest {
    @Test
    void collectsVersionsFoldersAndLicences(@TempDir Path tmp) {
        AppDirs dirs = new AppDirs(tmp.resolve("config"), tmp.resolve("data"));
        AboutInfo info = AboutInfo.collect(dirs, new ParametersViewModel(), tmp.resolve("gallery"), Optional.empty());
        assertEquals(AppVersion.number(), info.version());
        assertTrue(info.engine().onnxRuntimeVersion().matches("\\d+\\.\\d+\\.\\d+"), info.engine().onnxRuntimeVersion());
        assertTrue(info.engine().providers().contains("CPU"), info.engine().providers().toString());
        assertEquals(tmp.resolve("config"), info.folders().get(0).path());
        assertTrue(info.notices().contains("ONNX Runtime") && info.notices().contains("MIT"), "notices name ORT's licence");
        assertTrue(info.asText().contains("ONNX Runtime " + info.engine().onnxRuntimeVersion()));
    }

    @Test
    void listsOnlyTheProvidersThatCanRunHere(@TempDir Path tmp) {
        assertEquals(List.of("CPU"), AboutInfo.providersHere(false));
        assertEquals(List.of("CPU", "CUDA"), AboutInfo.providersHere(true));
        ParametersViewModel params = new ParametersViewModel();
        params.deviceNoteProperty().set("GPU cuda:0 unavailable, running on CPU: libcuda.so.1 could not be loaded");
        AboutInfo info = AboutInfo.collect(new AppDirs(tmp.resolve("config"), tmp.resolve("data")), params, tmp.resolve("gallery"),
                Optional.empty());
        String onnxLine = info.asText().lines().filter(l -> l.startsWith("ONNX Runtime")).findFirst().orElseThrow();
        assertTrue(onnxLine.endsWith("(can run here: CPU)"), "the engine fell back to the CPU, so only the CPU: " + onnxLine);
        assertFalse(onnxLine.contains("TENSOR_RT") || onnxLine.contains("CUDA"), onnxLine);
    }

    @Test
    void theDeviceSaysWhy() {
        assertEquals("CPU", AboutInfo.device("cpu", "").name());
        AboutInfo.Device fellBack = AboutInfo.device("cuda:0", "GPU cuda:0 unavailable, running on CPU: libcuda.so.1 could not be loaded");
        assertEquals("CPU", fellBack.name());
        assertTrue(fellBack.reason().contains("libcuda.so.1"));
        assertEquals("GPU cuda:0", AboutInfo.device("cuda:0", "").name());
    }
}
