package dev.sd3studio.engine.runtime;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtException.OrtErrorCode;
import dev.sd3studio.engine.api.EngineException.Kind;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Session-creation failures get their own kind. The CUDA messages are the forms ORT's CUDA provider
 * reports (taken from reading its sources and documentation; no GPU was available to reproduce them).
 */
class OrtErrorsTest {
    private static final Path FILE = Path.of("transformer/model.onnx");

    @Test
    void cudaDeviceFailuresAreNotCorruptDownloads() {
        for (String m : new String[] {
            "CUDA failure 101: invalid device ordinal ; GPU=1 ; hostname=x ; expr=cudaSetDevice(info_.device_id);",
            "CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version",
            "CUDNN failure 4: CUDNN_STATUS_INTERNAL_ERROR"}) {
            var e = OrtErrors.onLoad("transformer", FILE, new OrtException(OrtErrorCode.ORT_RUNTIME_EXCEPTION, m), true);
            assertEquals(Kind.DEVICE_UNAVAILABLE, e.kind(), m);
            assertFalse(e.getMessage().contains("Download"), e.getMessage());
        }
        var ep = OrtErrors.onLoad("transformer", FILE, new OrtException(OrtErrorCode.ORT_EP_FAIL, "provider failed"), true);
        assertEquals(Kind.DEVICE_UNAVAILABLE, ep.kind());
    }

    @Test
    void anOperatorWithoutAKernelIsAnIncompatibleModel() {
        var e = OrtErrors.onLoad("vae_decoder", FILE, new OrtException(OrtErrorCode.ORT_NOT_IMPLEMENTED,
                "Could not find an implementation for ConvTranspose(11) node with name '/up/ConvTranspose'"), true);
        assertEquals(Kind.INCOMPATIBLE_MODEL, e.kind());
        assertTrue(e.getMessage().contains("CPU"), e.getMessage());
    }

    @Test
    void onTheCpuABrokenFileStaysCorruptAndMemoryStaysMemory() {
        var broken = OrtErrors.onLoad("transformer", FILE, new OrtException(OrtErrorCode.ORT_INVALID_PROTOBUF,
                "Load model from x failed:Protobuf parsing failed."), false);
        assertEquals(Kind.CORRUPT_FILE, broken.kind());
        var cudaWordOnCpu = OrtErrors.onLoad("transformer", FILE, new OrtException(OrtErrorCode.ORT_FAIL,
                "cuda in a corrupt name"), false);
        assertEquals(Kind.CORRUPT_FILE, cudaWordOnCpu.kind(), "device words count only when CUDA is in use");
        var oom = OrtErrors.onLoad("transformer", FILE, new OrtException(OrtErrorCode.ORT_FAIL, "bad_alloc"), true);
        assertEquals(Kind.OUT_OF_MEMORY, oom.kind());
    }
}
