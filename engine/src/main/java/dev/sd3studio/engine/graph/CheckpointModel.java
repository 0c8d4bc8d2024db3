package dev.sd3studio.engine.graph;

import dev.sd3studio.engine.api.CheckpointFiles;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.checkpoint.Checkpoint;
import dev.sd3studio.engine.checkpoint.CheckpointComponent;
import dev.sd3studio.engine.checkpoint.CheckpointConfigs;
import dev.sd3studio.engine.checkpoint.CheckpointFormat;
import dev.sd3studio.engine.checkpoint.CheckpointOpener;
import dev.sd3studio.engine.checkpoint.CheckpointOptions;
import dev.sd3studio.engine.lora.OnnxWeights;
import dev.sd3studio.engine.model.Component;
import dev.sd3studio.engine.model.ModelSource;
import dev.sd3studio.engine.model.SchedulerConfig;
import dev.sd3studio.engine.model.TransformerConfig;
import dev.sd3studio.engine.model.VaeConfig;
import dev.sd3studio.engine.onnx.ModelProto;
import dev.sd3studio.engine.runtime.ComponentGraph;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * A {@code .safetensors} checkpoint as the pipeline sees a model: each component's graph is built here, on
 * demand, over the user's own weight files (nothing converted, nothing copied); configs come from the
 * checkpoint's config folder or its family's built-in ones; tokenizers from a diffusers folder, or the ones
 * the app ships for single files, which carry none.
 */
public final class CheckpointModel implements ModelSource {
    private static final String[] TOKENIZER_FOLDERS = {"tokenizer", "tokenizer_2", "tokenizer_3"};

    private final Checkpoint checkpoint;
    private final Path tokenizers;

    private CheckpointModel(Checkpoint checkpoint, Path tokenizers) {
        this.checkpoint = checkpoint;
        this.tokenizers = tokenizers;
    }

    /** Opens a checkpoint file or diffusers folder (headers and configs only); refuses what is not SD3. */
    public static CheckpointModel open(Path path, CheckpointFiles files) throws EngineException {
        CheckpointOptions options = new CheckpointOptions(Optional.ofNullable(files.configDir()),
                Optional.ofNullable(files.clipL()), Optional.ofNullable(files.clipG()), Optional.ofNullable(files.t5()));
        return new CheckpointModel(CheckpointOpener.open(path, options), files.tokenizers());
    }

    /**
     * Whether {@code path} is for this class rather than {@link dev.sd3studio.engine.model.ModelFolder}: a file
     * (the opener names what is wrong with one that is no safetensors checkpoint), or a diffusers folder whose
     * transformer is stored as safetensors rather than exported to ONNX.
     */
    public static boolean isCheckpoint(Path path) {
        if (Files.isRegularFile(path)) {
            return true;
        }
        Path transformer = path.resolve("transformer");
        if (!Files.isDirectory(transformer) || Files.isRegularFile(transformer.resolve("model.onnx"))) {
            return false;
        }
        try (var files = Files.list(transformer)) {
            return files.anyMatch(p -> p.getFileName().toString().endsWith(".safetensors")
                    || p.getFileName().toString().endsWith(".safetensors.index.json"));
        } catch (java.io.IOException e) {
            return false;
        }
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    @Override
    public Path root() {
        return checkpoint.source();
    }

    @Override
    public String displayName() {
        String name = checkpoint.source().toAbsolutePath().normalize().getFileName().toString();
        return name.toLowerCase(Locale.ROOT).endsWith(".safetensors") ? name.substring(0, name.length() - 12) : name;
    }

    @Override
    public boolean has(Component c) {
        return switch (c) {
            case TEXT_ENCODER_3 -> checkpoint.find(CheckpointComponent.T5).isPresent();
            case VAE_ENCODER -> checkpoint.find(CheckpointComponent.VAE)
                    .map(w -> w.has("encoder.conv_in.weight")).orElse(false);
            default -> checkpoint.find(componentOf(c)).isPresent();
        };
    }

    @Override
    public ComponentGraph require(Component c, boolean skippableBlocks) throws EngineException {
        var weights = checkpoint.require(componentOf(c));
        if (c == Component.VAE_ENCODER && !has(c)) {
            throw new EngineException(Kind.MISSING_COMPONENT, "image-to-image needs the VAE encoder, and "
                    + checkpoint.source() + " holds only the VAE decoder; use a checkpoint that includes the whole VAE.");
        }
        ModelProto graph = switch (c) {
            case TEXT_ENCODER -> ClipTextGraph.build(checkpoint, CheckpointComponent.CLIP_L);
            case TEXT_ENCODER_2 -> ClipTextGraph.build(checkpoint, CheckpointComponent.CLIP_G);
            case TEXT_ENCODER_3 -> T5EncoderGraph.build(checkpoint);
            case TRANSFORMER -> MmditGraph.build(checkpoint, skippableBlocks);
            case VAE_DECODER -> VaeGraphs.decoder(checkpoint);
            case VAE_ENCODER -> VaeGraphs.encoder(checkpoint);
        };
        Path source = weights.weights().values().stream().findFirst().map(w -> w.file()).orElse(checkpoint.source());
        return ComponentGraph.built(source, graph.toByteArray(), weights.folder());
    }

    /** The checkpoint part a pipeline component is built from (both VAE graphs from the one VAE). */
    static CheckpointComponent componentOf(Component c) {
        return switch (c) {
            case TEXT_ENCODER -> CheckpointComponent.CLIP_L;
            case TEXT_ENCODER_2 -> CheckpointComponent.CLIP_G;
            case TEXT_ENCODER_3 -> CheckpointComponent.T5;
            case TRANSFORMER -> CheckpointComponent.TRANSFORMER;
            case VAE_DECODER, VAE_ENCODER -> CheckpointComponent.VAE;
        };
    }

    @Override
    public TransformerConfig transformerConfig() throws EngineException {
        var entry = checkpoint.configs().require(CheckpointComponent.TRANSFORMER, checkpoint.source());
        return TransformerConfig.of(entry.json(), entry.source());
    }

    @Override
    public VaeConfig vaeConfig() throws EngineException {
        var entry = checkpoint.configs().require(CheckpointComponent.VAE, checkpoint.source());
        return VaeConfig.of(entry.json(), entry.source());
    }

    @Override
    public SchedulerConfig schedulerConfig() throws EngineException {
        Optional<CheckpointConfigs.Entry> entry = checkpoint.configs().find(CheckpointConfigs.SCHEDULER);
        // checkpoints carry no scheduler: FlowMatchEulerDiscrete with shift 3.0, as diffusers assumes
        return entry.isPresent() ? SchedulerConfig.of(entry.get().json(), entry.get().source()) : SchedulerConfig.SD3_DEFAULT;
    }

    @Override
    public Path tokenizerDir(int index) throws EngineException {
        String name = TOKENIZER_FOLDERS[index - 1];
        if (checkpoint.format() == CheckpointFormat.DIFFUSERS_FOLDER
                && Files.isDirectory(checkpoint.source().resolve(name))) {
            return checkpoint.source().resolve(name);
        }
        if (tokenizers != null && Files.isDirectory(tokenizers.resolve(name))) {
            return tokenizers.resolve(name);
        }
        throw new EngineException(Kind.MISSING_COMPONENT, checkpoint.source() + " carries no tokenizers (single"
                + " checkpoint files never do), and SD3 Studio's own CLIP and T5 tokenizers were not found"
                + (tokenizers == null ? "" : " in " + tokenizers) + ". Reinstall SD3 Studio, or open a diffusers folder,"
                + " which has its tokenizer folders.");
    }

    @Override
    public Path previewSearchFolder() {
        Path source = checkpoint.source().toAbsolutePath();
        return Files.isDirectory(source) ? source : source.getParent();
    }

    /** Read from the graph as {@link #require} builds it: its linear nodes carry diffusers / transformers module paths. */
    @Override
    public Optional<OnnxWeights> linearWeights(Component c) throws EngineException {
        if (!has(c)) {
            return Optional.empty();
        }
        ComponentGraph graph = require(c, false);
        return Optional.of(OnnxWeights.read(graph.built(), graph.weightFolder(), graph.source()));
    }

    @Override
    public String kind() {
        String family = checkpoint.family().map(f -> f.displayName() + " ").orElse("");
        return family + (checkpoint.format() == CheckpointFormat.SINGLE_FILE ? "checkpoint (single file)"
                : "checkpoint (diffusers folder)");
    }
}
