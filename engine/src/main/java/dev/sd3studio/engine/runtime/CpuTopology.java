package dev.sd3studio.engine.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Physical cores: compute-bound ONNX kernels gain nothing from a core's second hardware thread,
 * and one thread per logical core oversubscribes. Linux tells from sysfs; elsewhere (or if it
 * cannot) the logical count is used.
 */
final class CpuTopology {
    private CpuTopology() {
    }

    static int physicalCores() {
        int logical = Runtime.getRuntime().availableProcessors();
        Path cpus = Path.of("/sys/devices/system/cpu");
        if (!Files.isDirectory(cpus)) {
            return logical;
        }
        Set<String> cores = new HashSet<>();
        try (Stream<Path> dirs = Files.list(cpus)) {
            for (Path cpu : dirs.filter(p -> p.getFileName().toString().matches("cpu\\d+")).toList()) {
                Path siblings = cpu.resolve("topology/thread_siblings_list");
                if (Files.isReadable(siblings)) {
                    cores.add(Files.readString(siblings).strip());
                }
            }
        } catch (IOException | RuntimeException e) {
            return logical;
        }
        // The JVM may be limited to fewer CPUs than the machine has (containers, taskset).
        return cores.isEmpty() ? logical : Math.max(1, Math.min(cores.size(), logical));
    }
}
