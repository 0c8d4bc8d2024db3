package dev.sd3studio.app;

/**
 * ONNX Runtime's libraries for this platform, already unpacked in a folder named by
 * {@code sd3studio.native.dir}: the installers' {@code $APPDIR/native} (CPU build), and for
 * {@code ./sd3studio} the folder the build unpacked them to ({@code app/target/natives/}, with
 * onnxruntime_gpu the CUDA provider too). Loaded from there, ORT copies nothing into a new temp folder
 * at each start. It becomes ONNX Runtime's library folder only when nothing chose one before: a
 * user's {@code -Donnxruntime.native.path} and the GPU pack (set by {@code GpuSetup}) win. Must run
 * before ONNX Runtime loads.
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
