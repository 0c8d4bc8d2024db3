package dev.sd3studio.app.gpu;

import dev.sd3studio.app.cli.Cli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The GPU check against a fake driver folder, a fake nvidia-smi and a fake PyTorch install. */
class GpuProbeTest {
    private static Path write(Path p, String text) throws Exception {
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
        return p;
    }

    private static Path fakeDriver(Path root) throws Exception {
        write(root.resolve("proc/driver/nvidia/version"),
                "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024\nGCC version:  gcc 12\n");
        write(root.resolve("proc/driver/nvidia/gpus/0000:01:00.0/information"), "Model: \t\t NVIDIA GeForce RTX 4090\nIRQ: 1\n");
        write(root.resolve("usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14"), "driver");
        return root;
    }

    @Test
    void aDriverWithoutNvidiaSmiIsReadFromItsFiles(@TempDir Path root) throws Exception {
        fakeDriver(root);
        GpuStatus s = new GpuProbe(root, Map.of("PATH", ""), Platform.LINUX, root.resolve("home")).status(Optional.empty());
        assertEquals("550.54.14", s.driver().orElseThrow().version());
        assertEquals("12.4", s.driver().orElseThrow().cudaVersion());
        assertEquals("NVIDIA GeForce RTX 4090", s.gpus().getFirst().name());
        assertEquals(Platform.LINUX.cudaLibraries(), s.missingLibraries());
        assertTrue(s.verdict().contains("sd3studio gpu install"), s.verdict());
    }

    @Test
    void nvidiaSmiGivesCudaVersionAndMemoryAndPyTorchLibrariesAreFoundAndLinked(@TempDir Path root) throws Exception {
        fakeDriver(root);
        Path smi = write(root.resolve("bin/nvidia-smi"), """
                #!/bin/sh
                if [ "$1" = "--query-gpu=index,name,memory.total" ]; then echo "0, NVIDIA GeForce RTX 4090, 24564"; exit 0; fi
                echo "| NVIDIA-SMI 550.54.14    Driver Version: 550.54.14      CUDA Version: 12.4     |"
                """);
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path site = root.resolve("home/.local/lib/python3.11/site-packages/nvidia");
        Map<String, List<String>> wheels = Map.of("cuda_runtime", List.of("libcudart.so.12"),
                "cublas", List.of("libcublas.so.12", "libcublasLt.so.12"), "curand", List.of("libcurand.so.10"),
                "cufft", List.of("libcufft.so.11"), "cudnn", List.of("libcudnn.so.9", "libcudnn_graph.so.9", "libcudnn_ops.so.9"));
        wheels.forEach((wheel, libs) -> libs.forEach(l -> {
            try {
                write(site.resolve(wheel).resolve("lib").resolve(l), l);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }));
        GpuProbe probe = new GpuProbe(root, Map.of("PATH", root.resolve("bin").toString()), Platform.LINUX, root.resolve("home"));
        GpuStatus s = probe.status(Optional.empty());
        assertEquals("12.4", s.driver().orElseThrow().cudaVersion());
        assertEquals("nvidia-smi", s.driver().orElseThrow().source());
        assertEquals(24564, s.gpus().getFirst().memoryMiB());
        assertTrue(s.missingLibraries().isEmpty(), s.lines().toString());
        assertTrue(s.libraries().stream().allMatch(l -> l.origin() == GpuStatus.Origin.PYTORCH));
        assertTrue(String.join("\n", s.lines()).contains("GPU 0: NVIDIA GeForce RTX 4090, 24.0 GB"), s.lines().toString());

        // used without a download: linked into one folder the engine loads from
        GpuSetup.Choice c = GpuSetup.decide(root.resolve("gpu"), probe);
        assertNull(c.ortNatives());
        Path linked = c.cudaDir();
        assertEquals(site.resolve("cudnn/lib/libcudnn.so.9"), Files.readSymbolicLink(linked.resolve("libcudnn.so.9")));
        assertEquals(site.resolve("cudnn/lib/libcudnn_graph.so.9"), Files.readSymbolicLink(linked.resolve("libcudnn_graph.so.9")));
        assertEquals("libcudart.so.12", Files.readString(linked.resolve("libcudart.so.12")));
    }

    @Test
    void driverVersionsMapToTheirCudaVersion() {
        assertEquals("12.2", GpuProbe.cudaForDriver("535.183.01"));
        assertEquals("13.0", GpuProbe.cudaForDriver("580.65.06"));
        assertTrue(GpuProbe.cudaForDriver("470.256.02").contains("too old"));
    }

    @Test
    void statusExplainsAndExitsZero() {
        StringWriter out = new StringWriter();
        int exit = Cli.run(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "gpu", "status");
        assertEquals(0, exit);
        assertTrue(out.toString().startsWith("NVIDIA driver: "), out.toString());
        assertTrue(out.toString().contains("=> "), out.toString());
    }
}
