package dev.sd3studio.app.cli;

import dev.sd3studio.app.gallery.FileHashes;
import dev.sd3studio.app.gallery.LoraFinder;
import dev.sd3studio.app.gallery.PngFiles;
import dev.sd3studio.app.gallery.PngMetadata;
import dev.sd3studio.app.gallery.RecordedLora;
import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.settings.SettingsStore;
import dev.sd3studio.engine.Sd3Engine;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.app.gpu.GpuMemoryCheck;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.GenerationResult;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.api.SkipLayerGuidance;
import dev.sd3studio.engine.api.MemoryMode;
import dev.sd3studio.engine.api.WeightPrecision;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.api.Sd3Generator;
import dev.sd3studio.engine.api.StepEvent;
import dev.sd3studio.engine.api.AtomicFiles;
import dev.sd3studio.engine.api.Npy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code sd3studio generate}: text-to-image, image-to-image and inpainting to PNG (and .npy) files. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate images from prompts (and optionally a start image).",
                "Progress goes to a terminal's stderr; each written file and its seed to stdout.",
                "The built-in demo model draws one shape: a {small|large} {colour} {circle|square|triangle}"
                        + " {at the top left|…|in the center} on a {colour} background."})
public final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOption model;
    @Spec
    CommandSpec spec;

    @Option(names = "--from-png", paramLabel = "FILE", description = "make a picture of this app again from its PNG"
            + " (its prompt, settings, seed and batch position); options given as well override them")
    Path fromPng;
    @Option(names = "--prompt", paramLabel = "TEXT", description = "prompt; repeat for a batch (required unless --from-png)")
    List<String> prompts = new ArrayList<>();
    @Option(names = "--prompt-2", paramLabel = "TEXT", description = "prompt for CLIP-G (default: --prompt)")
    List<String> prompts2 = new ArrayList<>();
    @Option(names = "--prompt-3", paramLabel = "TEXT", description = "prompt for T5 (default: --prompt)")
    List<String> prompts3 = new ArrayList<>();
    @Option(names = "--negative", paramLabel = "TEXT", description = "negative prompt (default: empty)")
    List<String> negatives = new ArrayList<>();
    @Option(names = "--negative-2", paramLabel = "TEXT", description = "negative prompt for CLIP-G")
    List<String> negatives2 = new ArrayList<>();
    @Option(names = "--negative-3", paramLabel = "TEXT", description = "negative prompt for T5")
    List<String> negatives3 = new ArrayList<>();
    @Option(names = "--width", paramLabel = "N", description = "image width, a multiple of 16 (default: the model's)")
    Integer width;
    @Option(names = "--height", paramLabel = "N", description = "image height, a multiple of 16 (default: the model's)")
    Integer height;
    @Option(names = "--steps", paramLabel = "N", description = "denoising steps (default: ${DEFAULT-VALUE})")
    int steps = GenerationRequest.DEFAULT_STEPS;
    @Option(names = "--guidance", paramLabel = "F", description = "guidance scale; >1 enables CFG (default: the"
            + " scale the model's sd3studio.json recommends, else ${DEFAULT-VALUE})")
    double guidance = GenerationRequest.DEFAULT_GUIDANCE;
    @Option(names = "--shift", paramLabel = "F", description = "schedule shift (default: the scheduler config's)")
    Double shift;
    @Option(names = "--max-sequence-length", paramLabel = "N", description = "T5 tokens, up to 512 (default: ${DEFAULT-VALUE})")
    int maxSequenceLength = GenerationRequest.DEFAULT_MAX_SEQUENCE_LENGTH;
    @Option(names = "--clip-skip", paramLabel = "N", description = "skip the last N CLIP layers")
    Integer clipSkip;
    @Option(names = "--no-t5", description = "do not load or use the T5 encoder")
    boolean noT5;
    @Option(names = "--images-per-prompt", paramLabel = "N", description = "images per prompt (default: 1)")
    int imagesPerPrompt = 1;
    @Option(names = "--seed", paramLabel = "N", description = "seed; the same as torch.manual_seed in diffusers (default: random, printed)")
    Long seed;
    @Option(names = "--latents", paramLabel = "FILE.npy", description = "initial noise, float32 NCHW for the whole batch")
    Path latents;
    @Option(names = "--init-image", paramLabel = "FILE", description = "start image for image-to-image")
    Path initImage;
    @Option(names = "--strength", paramLabel = "F", description = "image-to-image strength 0..1 (default: ${DEFAULT-VALUE})")
    double strength = GenerationRequest.DEFAULT_STRENGTH;
    @Option(names = "--mask", paramLabel = "FILE", description = "inpainting: repaint the white part of --init-image"
            + " (any picture format; resized to the image)")
    Path mask;
    @Option(names = "--keep-unmasked", description = "inpainting: paste the start image back outside the mask after decoding")
    boolean keepUnmasked;
    @Option(names = "--encoder-noise", paramLabel = "FILE.npy", description = "image-to-image: ε for the VAE posterior")
    Path encoderNoise;
    @Option(names = "--lora", paramLabel = "FILE[:SCALE]",
            description = "merge a .safetensors LoRA (diffusers/peft or SD3 original/kohya keys) at SCALE"
                    + " (default 1.0); repeat for several")
    List<String> loras = new ArrayList<>();
    @Option(names = "--lora-dir", paramLabel = "DIR", description = "with --from-png: a folder to find the picture's"
            + " LoRAs in (by name and SHA-256), besides those the studio remembers; repeat for several")
    List<Path> loraDirs = new ArrayList<>();
    @Option(names = "--skip-layers", paramLabel = "N,N,...", description = "skip-layer guidance: one more transformer"
            + " pass with these blocks bypassed on part of the steps (SD3.5 Medium: 7,8,9); needs --guidance above 1")
    String skipLayers;
    @Option(names = "--skip-layer-scale", paramLabel = "F", description = "skip-layer guidance scale (default: ${DEFAULT-VALUE})")
    double skipLayerScale = SkipLayerGuidance.DEFAULT_SCALE;
    @Option(names = "--skip-layer-start", paramLabel = "F", description = "fraction of the steps after which it starts"
            + " (default: ${DEFAULT-VALUE})")
    double skipLayerStart = SkipLayerGuidance.DEFAULT_START;
    @Option(names = "--skip-layer-stop", paramLabel = "F", description = "fraction of the steps where it stops"
            + " (default: ${DEFAULT-VALUE})")
    double skipLayerStop = SkipLayerGuidance.DEFAULT_STOP;
    @Option(names = "--lora-report", description = "print which LoRA keys changed which layers, and which matched nothing")
    boolean loraReport;
    @Option(names = "--device", paramLabel = "cpu|cuda[:N]", description = "where to run (default: cpu)")
    String device = "cpu";
    @Option(names = "--offload", description = "load each model part only while it runs (lower peak memory)")
    boolean offload;
    @Option(names = "--weights", paramLabel = "stored|int8|int4", description = "the transformer's and T5's linear"
            + " layers as stored, or quantized to 8 or 4 bits at load (cached; about 1/2 or 1/3.5 of fp16) (default: stored)")
    String weights = "stored";
    @Option(names = "--preview-model", paramLabel = "DIR", description = "TAESD3 folder for --preview-dir")
    Path previewModel;
    @Option(names = "--preview-dir", paramLabel = "DIR", description = "write step previews as PNG files here")
    Path previewDir;
    @Option(names = "--out", required = true, paramLabel = "FILE.png", description = "output PNG (x-0.png, x-1.png... for several)")
    Path out;
    @Option(names = "--out-npy", paramLabel = "FILE.npy", description = "all images as float32 NHWC in [0,1]")
    Path outNpy;
    @Option(names = "--dump", paramLabel = "DIR", description = "write intermediate tensors as .npy files")
    Path dump;
    @Option(names = {"-q", "--quiet"}, description = "no progress and no list of written files")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        Path modelDir = model.resolve();
        Map<String, String> source = fromPng == null ? null : sourceParameters();
        GenerationRequest request = source == null ? request(modelDir) : requestFrom(source);
        checkOutputs(request.batchSize());
        Device dev = Device.parse(device);
        WeightPrecision precision = weightPrecision(weights);
        EngineOptions options = EngineOptions.defaults().withDevice(dev)
                .withMemoryMode(offload ? MemoryMode.OFFLOAD : MemoryMode.RESIDENT).withPreviewModel(previewModel)
                .withWeights(precision)
                .withCheckpoint(model.checkpointFiles());
        PrintWriter err = spec.commandLine().getErr();   // the caller's stderr (System.err from main)
        if (dev.kind() == Device.Kind.CUDA) {
            GpuMemoryCheck.before(modelDir, width, height, prompts.size(), dev.index(), offload, noT5, precision)
                    .ifPresent(w -> err.println("warning: " + w));
        }
        try (Sd3Generator engine = Sd3Engine.open(modelDir, options)) {
            engine.info().warnings().forEach(w -> err.println("warning: " + w));
            sizeNotice(modelDir, request, engine.info()).ifPresent(n -> err.println("note: " + n));
            if (loraReport && !request.loras().isEmpty()) {
                err.print(engine.loraReport(request.loras()).describe());
                err.flush();
            }
            if (source != null && source.containsKey("model") && !source.get("model").equals(engine.info().name())) {
                err.println("warning: " + fromPng.getFileName() + " was made with the model " + source.get("model")
                        + "; this runs " + engine.info().name() + " (choose the model with --model DIR).");
            }
            CancelToken cancel = new CancelToken();
            Thread hook = new Thread(cancel::cancel, "sd3-cancel");
            Runtime.getRuntime().addShutdownHook(hook);
            CliListener listener = new CliListener(err, !quiet && CliProgress.isTerminal());
            GenerationResult result = engine.generate(request, listener, cancel);
            listener.progress.end();
            try {
                List<Path> written = writeOutputs(result, engine.info().name(), precision);
                if (!quiet) {
                    PrintWriter stdout = spec.commandLine().getOut();
                    for (int i = 0; i < written.size(); i++) {
                        stdout.println("wrote " + written.get(i) + " (" + CliProgress.origin(
                                PngMetadata.of(result.resolved(), i, engine.info().name(), precision)) + ")");
                    }
                    stdout.flush();
                }
            } catch (IOException e) {
                throw new CliException("cannot write the output (" + e.getMessage() + "); free some disk space"
                        + " or choose another folder (no partial file is left behind).", Cli.EXIT_FAILED);
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // already shutting down
            }
        }
        return 0;
    }

    /**
     * Refuses before any work when an output could not be written, and removes what killed runs
     * left in the output folders.
     */
    private void checkOutputs(int count) throws CliException {
        List<Path> targets = new ArrayList<>(count > 1 && count <= 1000 ? OutputNames.numbered(out, count) : List.of(out));
        if (outNpy != null) {
            targets.add(outNpy);
        }
        for (Path p : targets) {
            OutputTargets.check(p, p == outNpy ? "--out-npy" : "--out");
        }
        for (Path p : targets) {
            AtomicFiles.removeStaleParts(p.toAbsolutePath().getParent());
        }
    }

    private Map<String, String> sourceParameters() throws CliException {
        if (!Files.isRegularFile(fromPng)) {
            throw new CliException("--from-png file " + fromPng + " does not exist.", Cli.EXIT_USAGE);
        }
        Map<String, String> text;
        try {
            text = PngFiles.readText(fromPng);
        } catch (IOException | RuntimeException e) {
            throw new CliException("--from-png file " + fromPng + " is not a readable PNG (" + e.getMessage() + ").",
                    Cli.EXIT_USAGE);
        }
        if (!text.containsKey(PngMetadata.OURS)) {
            throw new CliException(fromPng + " carries no SD3 Studio parameters (only pictures made by this app"
                    + " can be made again); pass --prompt and the other options instead.", Cli.EXIT_USAGE);
        }
        return PngMetadata.decode(text.get(PngMetadata.OURS));
    }

    /** The PNG's request; options on the command line win over what the file says. */
    private GenerationRequest requestFrom(Map<String, String> source) throws EngineException, CliException {
        if (source.containsKey("mask")) {
            throw new CliException(fromPng.getFileName() + " was inpainted; --from-png makes text-to-image and"
                    + " image-to-image pictures again, not inpainted ones (use --init-image and --mask).", Cli.EXIT_USAGE);
        }
        if (PngMetadata.isImageToImage(source) && initImage == null) {
            throw new CliException(fromPng.getFileName() + " was made from a start image, which the PNG does not"
                    + " contain; pass it with --init-image FILE.", Cli.EXIT_USAGE);
        }
        GenerationRequest.Builder b;
        try {
            b = PngMetadata.request(source);
        } catch (IllegalArgumentException e) {
            throw new CliException("cannot make " + fromPng.getFileName() + " again: " + e.getMessage() + ".",
                    Cli.EXIT_USAGE);
        }
        var matched = spec.commandLine().getParseResult();
        if (matched.hasMatchedOption("--prompt")) {
            b.setPrompts(prompts);
        }
        if (matched.hasMatchedOption("--width") || matched.hasMatchedOption("--height")) {
            GenerationRequest r = b.build();
            b.optSize(width != null ? width : r.width(), height != null ? height : r.height());
        }
        if (matched.hasMatchedOption("--steps")) {
            b.optSteps(steps);
        }
        if (matched.hasMatchedOption("--guidance")) {
            b.optGuidance(guidance);
        }
        if (matched.hasMatchedOption("--seed")) {
            b.optSeed(seed).optNoiseSlice(null);
        }
        if (matched.hasMatchedOption("--lora")) {
            b.optLoras(loraSpecs());
        } else if (source.containsKey("loras")) {
            b.optLoras(recordedLoras(source.get("loras"))); // the LoRAs it was made with, at their scales
        }
        if (matched.hasMatchedOption("--skip-layers")) {
            withSkipLayers(b);
        }
        if (initImage != null) {
            b.optInitImage(Sd3Engine.loadImage(initImage));
            b.optStrength(matched.hasMatchedOption("--strength") ? strength
                    : Double.parseDouble(source.getOrDefault("strength", Double.toString(strength))));
        }
        return b.optPreviewEvery(previewDir == null ? 0 : 1).build();
    }

    /**
     * The picture's LoRAs, found again by name and SHA-256 in {@code --lora-dir} and the LoRA folders
     * the studio remembers. A path the picture names is never opened: the picture may come from
     * anyone, and a LoRA it names that is not among the user's own is refused by name.
     */
    private List<LoraSpec> recordedLoras(String recorded) throws CliException {
        List<Path> folders = new ArrayList<>(loraDirs);
        for (String f : new SettingsStore(AppDirs.detect().settingsFile()).peek().loraFolders()) {
            folders.add(Path.of(f)); // the settings reader keeps only valid paths
        }
        LoraFinder.Found found = new LoraFinder(folders, FileHashes.shared()).findAll(recorded);
        if (!found.missing().isEmpty()) {
            boolean one = found.missing().size() == 1;
            throw new CliException("cannot make " + fromPng.getFileName() + " again: LoRA" + (one ? " " : "s ")
                    + String.join(", ", found.missing().stream().map(RecordedLora::label).toList())
                    + (one ? " is" : " are") + " not in your LoRA folders; name " + (one ? "its folder" : "their folders")
                    + " with --lora-dir DIR, or give the LoRAs yourself with --lora FILE[:SCALE].", Cli.EXIT_USAGE);
        }
        return found.specs();
    }

    private GenerationRequest request(Path modelDir) throws EngineException, CliException {
        if (keepUnmasked && mask == null) {
            throw new CliException("--keep-unmasked needs a --mask (it keeps the start image outside the mask).",
                    Cli.EXIT_USAGE);
        }
        if (prompts.isEmpty()) {
            throw new CliException("Missing required option: '--prompt=TEXT' (or --from-png FILE)", Cli.EXIT_USAGE);
        }
        if (seed != null && latents != null && initImage == null) {
            throw new CliException("--seed and --latents both give the initial noise; use one of them.", Cli.EXIT_USAGE);
        }
        return withSkipLayers(GenerationRequest.builder())
                .setPrompts(prompts).optPrompts2(prompts2).optPrompts3(prompts3)
                .optNegatives(negatives).optNegatives2(negatives2).optNegatives3(negatives3)
                .optSize(width, height).optSteps(steps).optGuidance(guidance(modelDir)).optShift(shift)
                .optMaxSequenceLength(maxSequenceLength).optClipSkip(clipSkip).optDropT5(noT5)
                .optImagesPerPrompt(imagesPerPrompt).optSeed(seed)
                .optInitialLatents(latents == null ? null : readLatents(latents, "--latents"))
                .optInitImage(initImage == null ? null : Sd3Engine.loadImage(initImage))
                .optStrength(strength)
                .optEncoderNoise(encoderNoise == null ? null : readLatents(encoderNoise, "--encoder-noise"))
                .optPreviewEvery(previewDir == null ? 0 : 1)
                .optLoras(loraSpecs())
                .optMask(mask == null ? null : loadMask())
                .optKeepUnmasked(keepUnmasked)
                .build();
    }

    /** --guidance when given, else the model's recommended scale (as the studio's defaults), else SD3's 7. */
    private double guidance(Path modelDir) {
        if (spec.commandLine().getParseResult().hasMatchedOption("--guidance")) {
            return guidance;
        }
        return dev.sd3studio.app.studio.vm.ModelHints.read(modelDir).guidance().orElse(guidance);
    }

    /** Skip-layer guidance as the options give it (off without --skip-layers). */
    private GenerationRequest.Builder withSkipLayers(GenerationRequest.Builder b) throws EngineException {
        if (skipLayers == null) {
            return b;
        }
        return b.optSkipLayers(SkipLayerGuidance.parseLayers(skipLayers)).optSkipLayerScale(skipLayerScale)
                .optSkipLayerStart(skipLayerStart).optSkipLayerStop(skipLayerStop);
    }

    private List<LoraSpec> loraSpecs() throws EngineException {
        List<LoraSpec> out = new ArrayList<>();
        for (String l : loras) {
            out.add(LoraSpec.parse(l));
        }
        return out;
    }

    private dev.sd3studio.engine.api.RgbImage loadMask() throws EngineException, CliException {
        if (initImage == null) {
            throw new CliException("--mask marks what to repaint in a picture; give that picture with --init-image.",
                    Cli.EXIT_USAGE);
        }
        try {
            return Sd3Engine.loadImage(mask);
        } catch (EngineException e) {
            // The loader says "image FILE …"; say which of the two pictures it is.
            throw new EngineException(e.kind(), "mask " + e.getMessage());
        }
    }

    private static FloatTensor readLatents(Path file, String flag) throws CliException {
        if (!Files.isRegularFile(file)) {
            throw new CliException(flag + " file " + file + " does not exist.", Cli.EXIT_USAGE);
        }
        try {
            return Npy.readFloat(file);
        } catch (IOException | IllegalArgumentException e) {
            throw new CliException(flag + " file " + file + " is not a float32 latent .npy: " + e.getMessage(),
                    Cli.EXIT_USAGE);
        }
    }

    private List<Path> writeOutputs(GenerationResult result, String modelName, WeightPrecision precision)
            throws IOException {
        OutputTargets targets = new OutputTargets();
        List<Path> files = OutputNames.numbered(out, result.count());
        for (int i = 0; i < result.count(); i++) {
            Map<String, String> meta = PngMetadata.of(result.resolved(), i, modelName, precision);
            targets.add(files.get(i), PngFiles.encode(PngFiles.toBufferedImage(result.image(i)),
                    Map.of(PngMetadata.PARAMETERS, PngMetadata.parametersText(meta), PngMetadata.OURS,
                            PngMetadata.encode(meta))));
        }
        if (outNpy != null) {
            targets.add(outNpy, Npy.encodeFloat(result.images()));
        }
        targets.writeAll();
        return files;
    }

    /** What to expect when the size is not one the model folder declares (sd3studio.json "sizes"). */
    static java.util.Optional<String> sizeNotice(Path modelDir, GenerationRequest request, Sd3Generator.ModelInfo info) {
        int w = request.width() != null ? request.width() : info.defaultWidth();
        int h = request.height() != null ? request.height() : info.defaultHeight();
        return dev.sd3studio.app.studio.vm.ModelHints.read(modelDir).sizeNotice(w, h);
    }

    /** Progress and warnings on stderr, dumps and previews to files. */
    private final class CliListener implements ProgressListener {
        private final PrintWriter err;
        final CliProgress progress;

        CliListener(PrintWriter err, boolean interactive) {
            this.err = err;
            this.progress = new CliProgress(err, interactive);
        }

        @Override
        public void warning(String message) {
            progress.clearLine();
            err.println("warning: " + message);
        }

        @Override
        public void stage(String name) {
            if (name.startsWith("LoRA ")) {
                progress.clearLine();
                err.println(name);   // which LoRA changed how many layers: never a silent no-op
            } else {
                progress.stage(name);
            }
        }

        @Override
        public void step(StepEvent e) {
            progress.step(e.step(), e.total(), e.elapsed());
        }

        @Override
        public void preview(int step, FloatTensor image) {
            if (previewDir == null) {
                return;
            }
            try {
                Files.createDirectories(previewDir);
                for (int b = 0; b < image.dim(0); b++) {
                    FloatTensor one = image.slice(b, b + 1);
                    PngFiles.write(previewDir.resolve(String.format("step%03d-%d.png", step, b)),
                            new dev.sd3studio.engine.api.RgbImage((int) image.dim(2), (int) image.dim(1), one.data()),
                            Map.of());
                }
            } catch (IOException ex) {
                err.println("warning: cannot write preview: " + ex.getMessage());
            }
        }

        @Override
        public void tensor(String name, FloatTensor value) {
            if (dump != null) {
                write(() -> Npy.writeFloat(dumpFile(name), value));
            }
        }

        @Override
        public void ids(String name, long[][] ids) {
            if (dump != null) {
                long[] flat = new long[ids.length * ids[0].length];
                for (int i = 0; i < ids.length; i++) {
                    System.arraycopy(ids[i], 0, flat, i * ids[0].length, ids[0].length);
                }
                write(() -> Npy.writeLong(dumpFile(name), new long[] {ids.length, ids[0].length}, flat));
            }
        }

        private Path dumpFile(String name) throws IOException {
            Files.createDirectories(dump);
            return dump.resolve(name + ".npy");
        }

        private void write(IoAction action) {
            try {
                action.run();
            } catch (IOException e) {
                err.println("warning: cannot write dump: " + e.getMessage());
            }
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    /** {@code --weights}'s value, or a usage error naming the choices. */
    static WeightPrecision weightPrecision(String text) throws CliException {
        try {
            return WeightPrecision.parse(text);
        } catch (IllegalArgumentException e) {
            throw new CliException("--weights must be stored, int8 or int4, not " + text, Cli.EXIT_USAGE);
        }
    }
}
