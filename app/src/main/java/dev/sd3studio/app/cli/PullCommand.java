package dev.sd3studio.app.cli;

import dev.sd3studio.app.hub.DownloadControl;
import dev.sd3studio.app.hub.DownloadProgress;
import dev.sd3studio.app.hub.HubClient;
import dev.sd3studio.app.hub.HubException;
import dev.sd3studio.app.hub.HubFile;
import dev.sd3studio.app.hub.CheckpointRepo;
import dev.sd3studio.app.hub.HubSettings;
import dev.sd3studio.app.hub.ModelCatalogue;
import dev.sd3studio.app.hub.ModelDownloader;
import dev.sd3studio.app.hub.ModelFiles;
import dev.sd3studio.app.hub.RepoRef;
import dev.sd3studio.app.hub.Sizes;
import dev.sd3studio.app.hub.T5Variant;
import dev.sd3studio.app.hub.TerminalSafe;
import dev.sd3studio.app.settings.AppDirs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code sd3studio pull}: a model from the Hugging Face Hub into a folder the engine loads. */
@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Download an SD3/SD3.5 model from the Hugging Face Hub: an ONNX export, or one of Stability AI's"
                + " checkpoint repositories (only the files the engine needs, verified, resumable). Without REPO, list"
                + " the known-good models.",
                "Token: HF_TOKEN or huggingface_hub's token file; endpoint: HF_ENDPOINT."})
public final class PullCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "REPO[@REVISION]", description = "Hub repository id, e.g. TensorStack/stable-diffusion-3.5-medium-onnx")
    String repo;

    @Option(names = "--dest", paramLabel = "DIR", description = "target folder (default: the models folder in the user data folder)")
    Path dest;

    @Option(names = "--no-t5", description = "skip the T5-XXL text encoder (saves about 9 GB in fp32 exports; run with Drop T5)")
    boolean noT5;

    @Option(names = "--t5-variant", paramLabel = "fp16|fp8|none", description = "checkpoint repositories: which T5-XXL"
            + " to fetch from text_encoders/ (default: fp8, half the download and memory of fp16; none: without T5)")
    String t5Variant;

    @Option(names = "--endpoint", paramLabel = "URL", description = "Hub endpoint or mirror (default: $HF_ENDPOINT, else https://huggingface.co)")
    String endpoint;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (repo == null) {
            out.println("Known-good SD3/SD3.5 models (ONNX export sizes are read from the Hub when you pull):");
            for (ModelCatalogue.Entry e : ModelCatalogue.ENTRIES) {
                out.println("  " + e.repo() + "   [" + e.kind() + "]");
                out.println("      " + e.title() + ": " + e.description());
                out.println("      licence: " + e.licence());
                if (e.gated()) {
                    out.println("      " + e.access());
                }
            }
            out.println("Any other Hub repository with an SD3 ONNX export works too: sd3studio pull OWNER/NAME[@REVISION]");
            out.println("Checkpoints: --t5-variant fp8 (default), fp16 or none chooses the T5 encoder fetched with them");
            return 0;
        }
        RepoRef ref;
        try {
            ref = RepoRef.parse(repo);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), Cli.EXIT_USAGE);
        }
        Optional<CheckpointRepo> checkpoint = ModelCatalogue.find(ref).flatMap(ModelCatalogue.Entry::checkpoint);
        T5Variant t5 = t5Choice(ref, checkpoint.isPresent());
        boolean withoutT5 = t5 == T5Variant.NONE;
        ModelFiles.Selector selector = checkpoint.isPresent()
                ? ModelFiles.checkpoint(checkpoint.get(), t5) : ModelFiles.onnx(withoutT5);
        Path target = dest != null ? dest : defaultFolder(ref);
        HubSettings settings;
        try {
            settings = HubSettings.fromEnvironment();
            if (endpoint != null) {
                settings = settings.withEndpoint(endpoint);
            }
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), Cli.EXIT_USAGE);
        }
        HubClient client = new HubClient(settings);
        ModelDownloader downloader = new ModelDownloader(client);
        try {
            err.println("listing " + ref + " on " + client.settings().endpoint() + " ...");
            ModelDownloader.Plan plan = downloader.plan(ref, target, selector);
            err.println(plan.files().files().size() + " files (" + plan.files().layout() + " layout), "
                    + Sizes.human(plan.files().totalBytes())
                    + (withoutT5 ? " without T5" : checkpoint.isPresent() ? " with the " + t5 + " T5" : "")
                    + (plan.bytesStaged() > 0 ? ", " + Sizes.human(plan.bytesStaged()) + " already here" : "")
                    + " -> " + target);
            List<HubFile> unverified = plan.files().unverified();
            if (!unverified.isEmpty()) {
                err.println("warning: " + unverified.size() + " of the files cannot be verified, the Hub's file list gives"
                        + " no hash for them (a mirror or proxy that drops hashes?); they are installed as received: "
                        + String.join(", ", unverified.stream().map(HubFile::path).toList()));
            }
            err.println("(Ctrl+C stops; the same command resumes where it stopped)");
            ProgressPrinter printer = new ProgressPrinter(err, System.console() != null);
            Path done = downloader.download(plan, new DownloadControl(), printer::print);
            printer.finish();
            Path model = plan.files().modelPath(done);
            out.println("downloaded " + ref + " to " + done);
            if (checkpoint.isPresent()) {
                out.println("model file (pass it to --model): " + model);
            }
            out.println("try: sd3studio generate --model " + model + (withoutT5 ? " --no-t5" : "")
                    + " --prompt \"a lighthouse at dusk\" --out lighthouse.png");
            return 0;
        } catch (HubException e) {
            throw new CliException(TerminalSafe.text(e.getMessage()), Cli.EXIT_FAILED);
        }
    }

    /**
     * The T5 choice: for a checkpoint repository {@code --t5-variant} (fp8 unless given; {@code --no-t5}
     * means none); an ONNX export carries its own T5, so there only none (= {@code --no-t5}) applies.
     */
    private T5Variant t5Choice(RepoRef ref, boolean isCheckpoint) throws CliException {
        T5Variant chosen;
        try {
            chosen = t5Variant == null ? null : T5Variant.parse(t5Variant);
        } catch (IllegalArgumentException e) {
            throw new CliException("--t5-variant: " + e.getMessage(), Cli.EXIT_USAGE);
        }
        if (noT5 && chosen != null && chosen != T5Variant.NONE) {
            throw new CliException("--no-t5 and --t5-variant " + chosen + " contradict each other; give one of them",
                    Cli.EXIT_USAGE);
        }
        if (noT5) {
            return T5Variant.NONE;
        }
        if (!isCheckpoint && chosen != null && chosen != T5Variant.NONE) {
            throw new CliException("--t5-variant " + chosen + " chooses the T5 file of a checkpoint repository; " + ref
                    + " is not one this app knows as such (an ONNX export brings its own T5: leave the option out, or"
                    + " use --no-t5)", Cli.EXIT_USAGE);
        }
        // for an export only NONE matters: with T5 it gets the export's own, whatever its precision
        return chosen != null ? chosen : isCheckpoint ? T5Variant.FP8 : T5Variant.FP16;
    }

    static Path defaultFolder(RepoRef ref) {
        return AppDirs.detect().data().resolve("models").resolve(ref.folderName());
    }

    /** One live line on a terminal; a line every few seconds (and on each change of state) otherwise. */
    private static final class ProgressPrinter {
        private final PrintWriter err;
        private final boolean live;
        private long lastLine;
        private DownloadProgress.State lastState;

        ProgressPrinter(PrintWriter err, boolean live) {
            this.err = err;
            this.live = live;
        }

        void print(DownloadProgress p) {
            if (p.state() == DownloadProgress.State.DONE) {
                return;
            }
            if (p.state() == DownloadProgress.State.UNVERIFIED) {
                // a warning stays on the screen: its own line, never overwritten by the live line
                String warning = TerminalSafe.text(p.describe());
                err.println(live ? "\r" + String.format("%-110s", warning) : warning);
                return;
            }
            if (live) {
                String line = TerminalSafe.text(p.describe());
                err.print("\r" + (line.length() > 110 ? line.substring(0, 110) : String.format("%-110s", line)));
                err.flush();
                return;
            }
            long now = System.nanoTime();
            boolean changed = p.state() != lastState && p.state() != DownloadProgress.State.VERIFYING;
            if (changed || now - lastLine > 5_000_000_000L) {
                err.println(TerminalSafe.text(p.describe()));
                lastLine = now;
            }
            lastState = p.state();
        }

        void finish() {
            if (live) {
                err.println();
            }
        }
    }
}
