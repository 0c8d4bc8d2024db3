package dev.sd3studio.app.studio.vm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The devices that exist, as the driver reports them: the CPU, and each NVIDIA GPU listed by
 * {@code nvidia-smi -L}. Without the tool (no driver) only the CPU is offered.
 */
public final class Devices {
    private static final Pattern GPU_LINE = Pattern.compile("^GPU (\\d+): ([^(]+?)\\s*(\\(UUID.*)?$");

    private Devices() {
    }

    /** Device id ("cpu", "cuda:0", …) to the name shown; the CPU first. Runs a process: call off the UI thread. */
    public static Map<String, String> detect() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("cpu", "CPU");
        out.putAll(parse(nvidiaSmi()));
        return out;
    }

    /** The GPUs in {@code nvidia-smi -L} output, e.g. "GPU 0: NVIDIA H200 (UUID: GPU-…)". */
    static Map<String, String> parse(List<String> lines) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : lines) {
            Matcher m = GPU_LINE.matcher(line.strip());
            if (m.matches()) {
                out.put("cuda:" + m.group(1), "GPU " + m.group(1) + " · " + m.group(2).strip());
            }
        }
        return out;
    }

    private static List<String> nvidiaSmi() {
        try {
            Process p = new ProcessBuilder("nvidia-smi", "-L").redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                return List.of();
            }
            return new String(out, StandardCharsets.UTF_8).lines().toList();
        } catch (IOException e) {
            return List.of(); // no driver tool: no GPU to offer
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ArrayList<>();
        }
    }
}
