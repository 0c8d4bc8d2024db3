package dev.sd3studio.app.cli;

import dev.sd3studio.app.gpu.GpuPack;
import dev.sd3studio.app.gpu.GpuPackException;
import dev.sd3studio.app.gpu.GpuPackInstaller;
import dev.sd3studio.app.gpu.GpuPackRecipe;
import dev.sd3studio.app.gpu.GpuProbe;
import dev.sd3studio.app.gpu.GpuStatus;
import dev.sd3studio.app.gpu.Platform;
import dev.sd3studio.app.hub.DownloadProgress;
import dev.sd3studio.app.hub.Sizes;
import dev.sd3studio.app.hub.TerminalSafe;
import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.engine.Sd3Engine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code sd3studio gpu status|install}: what the GPU needs, and the pack that provides it. */
@Command(name = "gpu", mixinStandardHelpOptions = true, description = "NVIDIA GPU support: status, and the GPU pack download.",
        subcommands = {GpuCommand.Status.class, GpuCommand.Install.class})
public final class GpuCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "The NVIDIA driver and its CUDA version, each CUDA 12 / cuDNN 9 library, the GPU pack, the GPUs.")
    static final class Status implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            GpuStatus status = GpuProbe.system().status(GpuPack.find(GpuPack.home(AppDirs.detect())));
            status.lines().forEach(out::println);
            String natives = System.getProperty(Sd3Engine.ORT_NATIVE_PATH_PROPERTY);
            String cuda = System.getProperty("sd3studio.cuda.dir");
            if (natives != null || cuda != null) {
                out.println("used at start: " + (natives == null ? "" : "ONNX Runtime natives from " + natives + "; ")
                        + (cuda == null ? "" : "CUDA libraries from " + cuda));
            }
            return 0;
        }
    }

    @Command(name = "install", mixinStandardHelpOptions = true,
            description = {"Download the GPU pack into the user data folder: ONNX Runtime's GPU natives (Maven Central) and the"
                    + " CUDA 12 + cuDNN 9 runtime libraries (NVIDIA's redistributable archives), every file verified.",
                    "Shows the size and asks first; used from the next start."})
    static final class Install implements Callable<Integer> {
        @Option(names = {"-y", "--yes"}, description = "do not ask before downloading")
        boolean yes;

        @Option(names = "--recipe", paramLabel = "FILE", description = "a pack recipe (JSON) naming other sources, e.g. a mirror")
        Path recipe;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Path home = GpuPack.home(AppDirs.detect());
            GpuPackRecipe r;
            try {
                r = recipe == null ? GpuPackRecipe.standard() : GpuPackRecipe.read(recipe);
            } catch (GpuPackException e) {
                throw new CliException(TerminalSafe.text(e.getMessage()), Cli.EXIT_USAGE);
            }
            try {
                GpuPackInstaller installer = new GpuPackInstaller(home);
                err.println("reading NVIDIA's release manifests ...");
                GpuPackInstaller.Plan plan = installer.plan(r, Platform.current());
                // versions, labels and licence names come from the manifests: printable text only
                out.println(TerminalSafe.text("GPU pack for " + plan.platform().nvidiaKey() + ": ONNX Runtime "
                        + r.ortVersion() + ", CUDA " + plan.cudaRelease() + ", cuDNN " + plan.cudnnRelease()));
                for (GpuPackInstaller.Item i : plan.items()) {
                    out.println(TerminalSafe.text(String.format(Locale.ROOT, "  %-12s %-14s %10s  %s", i.component(),
                            i.version(), Sizes.human(i.size()), i.licence())));
                }
                out.println("download: " + Sizes.human(plan.bytes()) + " into " + home
                        + " (NVIDIA's files under the CUDA EULA and the cuDNN licence; texts kept in licenses/)");
                if (!yes && !confirm(out)) {
                    out.println("nothing downloaded");
                    return 0;
                }
                Reporter reporter = new Reporter(err);
                GpuPack pack = installer.install(plan, reporter::print);
                out.println("installed the GPU pack in " + pack.dir() + " (" + Sizes.human(pack.bytes()) + ", "
                        + pack.manifest().files().size() + " files verified); it is used from the next start");
                return 0;
            } catch (GpuPackException e) {
                throw new CliException(TerminalSafe.text(e.getMessage()), Cli.EXIT_FAILED);
            }
        }

        private static boolean confirm(PrintWriter out) throws IOException {
            out.print("Download it now? [y/N] ");
            out.flush();
            String answer = new BufferedReader(new InputStreamReader(System.in)).readLine();
            return answer != null && answer.strip().toLowerCase(Locale.ROOT).startsWith("y");
        }
    }

    private static final class Reporter {
        private final PrintWriter err;
        private long last;

        Reporter(PrintWriter err) {
            this.err = err;
        }

        void print(DownloadProgress p) {
            long now = System.nanoTime();
            if (p.state() != DownloadProgress.State.DOWNLOADING || now - last > 3_000_000_000L) {
                String file = TerminalSafe.text(p.file());
                err.println(switch (p.state()) {
                    case VERIFYING -> (p.note() == null ? "verifying " : p.note() + " ") + file;
                    case DONE -> "verified and installed";
                    case DOWNLOADING -> Sizes.human(p.done()) + " / " + Sizes.human(p.total()) + "  " + file;
                    default -> TerminalSafe.text(p.describe());
                });
                last = now;
            }
        }
    }
}
