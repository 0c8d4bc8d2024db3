package dev.sd3studio.app;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The installer's CPU libraries are only a default: the GPU pack or the user's choice wins. */
class InstalledNativesTest {
    private final String before = System.getProperty(InstalledNatives.ORT_NATIVE_PATH);

    @AfterEach
    void restore() {
        System.clearProperty(InstalledNatives.PROPERTY);
        if (before == null) {
            System.clearProperty(InstalledNatives.ORT_NATIVE_PATH);
        } else {
            System.setProperty(InstalledNatives.ORT_NATIVE_PATH, before);
        }
    }

    @Test
    void installerFolderIsUsedWhenNothingElseChose() {
        System.clearProperty(InstalledNatives.ORT_NATIVE_PATH);
        System.setProperty(InstalledNatives.PROPERTY, "/opt/sd3-studio/lib/app/native");
        InstalledNatives.useIfUnset();
        assertEquals("/opt/sd3-studio/lib/app/native", System.getProperty(InstalledNatives.ORT_NATIVE_PATH));
    }

    @Test
    void gpuPackOrUserChoiceWins() {
        System.setProperty(InstalledNatives.ORT_NATIVE_PATH, "/home/u/.local/share/sd3studio/gpu-pack/ort");
        System.setProperty(InstalledNatives.PROPERTY, "/opt/sd3-studio/lib/app/native");
        InstalledNatives.useIfUnset();
        assertEquals("/home/u/.local/share/sd3studio/gpu-pack/ort", System.getProperty(InstalledNatives.ORT_NATIVE_PATH));
    }

    @Test
    void nothingHappensOutsideAnInstall() {
        System.clearProperty(InstalledNatives.ORT_NATIVE_PATH);
        InstalledNatives.useIfUnset();
        assertNull(System.getProperty(InstalledNatives.ORT_NATIVE_PATH));
    }
}
