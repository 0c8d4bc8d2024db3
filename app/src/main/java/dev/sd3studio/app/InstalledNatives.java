package dev.sd3studio.app;

/**
 * The installers ship this platform's CPU ONNX Runtime libraries in {@code $APPDIR/native} and name
 * that folder in {@code sd3studio.native.dir}. It becomes ONNX Runtime's library folder only when
 * nothing chose one before: a user's {@code -Donnxruntime.native.path} and the GPU pack (set by
 * {@code GpuSetup}) win. Must run before ONNX Runtime loads.
 */
public final class InstalledNatives {
    public static final String PROPERTY = "sd3studio.native.dir";
    static final String ORT_NATIVE_PATH = "onnxruntime.native.path";

    private InstalledNatives() {
    }

    public static void useIfUnset() {
        String dir = System.getProperty(PROPERTY);
        if (dir != null && !dir.isBlank() && System.getProperty(ORT_NATIVE_PATH) == null) {
            System.setProperty(ORT_NATIVE_PATH, dir);
        }
    }
}
