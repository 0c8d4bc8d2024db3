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

    /** ORT 1.29's refusals of external data outside the model folder, word for word (its library's strings). */
    @Test
    void externalDataRefusedForSafetyIsNotACorruptDownload() {
        for (String m : new String[] {
            "Load model from x failed: External data path escapes model directory. Location: ../secret.bin",
            "Absolute path not allowed for external data location",
            "External data path validation failed for initializer: onnx::MatMul_839"}) {
            for (boolean onCuda : new boolean[] {false, true}) {
                var e = OrtErrors.onLoad("transformer", FILE, new OrtException(OrtErrorCode.ORT_FAIL, m), onCuda);
                assertEquals(Kind.INCOMPATIBLE_MODEL, e.kind(), m);
                assertTrue(e.getMessage().contains("names data outside its folder, which ONNX Runtime refused for"
                        + " safety"), e.getMessage());
                assertFalse(e.getMessage().contains("ownload"), e.getMessage());
            }
        }
        var missing = OrtErrors.onLoad("transformer", FILE, new OrtException(OrtErrorCode.ORT_FAIL,
                "External data path does not exist: model.onnx.data"), false);
        assertEquals(Kind.CORRUPT_FILE, missing.kind(), "a missing data file is an incomplete download");
    }
}
