package dev.sd3studio.engine.model;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.lora.OnnxWeights;

import dev.sd3studio.engine.runtime.ComponentGraph;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * A model folder on disk and where each of its parts is. Recognises the Hugging Face Optimum ONNX
 * layout and the TensorStack export layout (MMDiT in {@code unet/}); detection looks at files only
 * and opens no session.
 */
public record ModelFolder(Path root, Layout layout, Map<Component, Path> componentDirs) implements ModelSource {
    public enum Layout { OPTIMUM, TENSORSTACK }

    public static final String MODEL_FILE = "model.onnx";

    public static ModelFolder detect(Path root) throws EngineException {
        if (!Files.exists(root)) {
            throw new EngineException(Kind.MODEL_NOT_FOUND, "model folder " + root
                    + " does not exist; choose a folder with an SD3 ONNX export (model_index.json, transformer/, ...)");
        }
        if (!Files.isDirectory(root)) {
            throw new EngineException(Kind.MODEL_NOT_FOUND, root + " is a file, not a model folder; choose the folder"
                    + " that holds model_index.json");
        }
        Map<Component, Path> dirs = new EnumMap<>(Component.class);
        Layout layout = null;
        for (Component c : Component.values()) {
            for (String name : c.folderCandidates()) {
                Path dir = root.resolve(name);
                if (Files.isDirectory(dir)) {
                    dirs.put(c, dir);
                    if (c == Component.TRANSFORMER) {
                        layout = name.equals("unet") ? Layout.TENSORSTACK : Layout.OPTIMUM;
                    }
                    break;
                }
            }
        }
        if (dirs.isEmpty() && !Files.isRegularFile(root.resolve("model_index.json"))) {
            throw new EngineException(Kind.UNKNOWN_LAYOUT, root + " is not an SD3 ONNX model folder: it has neither"
                    + " model_index.json nor transformer/, text_encoder/ or vae_decoder/ sub-folders."
                    + " Use an Optimum ONNX export (optimum-cli export onnx) or a TensorStack SD3 export.");
        }
        return new ModelFolder(root, layout == null ? Layout.OPTIMUM : layout, Map.copyOf(dirs));
    }

    public Optional<Path> dir(Component c) {
        return Optional.ofNullable(componentDirs.get(c));
    }

    /** The ONNX file of a component, if its folder and file exist. */
    public Optional<Path> modelFile(Component c) {
        return dir(c).map(d -> d.resolve(MODEL_FILE)).filter(Files::isRegularFile);
    }

    @Override
    public Optional<OnnxWeights> linearWeights(Component c) throws EngineException {
        Optional<Path> file = modelFile(c);
        return file.isEmpty() ? Optional.empty() : Optional.of(OnnxWeights.read(file.get()));
    }

    /** The ONNX file of a required component, or an error saying what is missing and what to do. */
    public Path requireModelFile(Component c) throws EngineException {
        Path dir = componentDirs.get(c);
        if (dir == null) {
            throw new EngineException(Kind.MISSING_COMPONENT, "the " + c.description() + " is missing: expected "
                    + root.resolve(c.folder()).resolve(MODEL_FILE)
                    + (c == Component.TRANSFORMER ? " (or unet/" + MODEL_FILE + ")" : "")
                    + ". The download is incomplete: fetch the " + c.folder() + " folder of the model again.");
        }
        Path file = dir.resolve(MODEL_FILE);
        if (!Files.isRegularFile(file)) {
            throw new EngineException(Kind.MISSING_COMPONENT, "the " + c.description() + " folder " + dir
                    + " has no " + MODEL_FILE + "; fetch the " + c.folder() + " folder of the model again.");
        }
        return file;
    }

    @Override
    public boolean has(Component c) {
        return modelFile(c).isPresent();
    }

    @Override
    public ComponentGraph require(Component c, boolean skippableBlocks) throws EngineException {
        return ComponentGraph.file(requireModelFile(c));
    }

    @Override
    public TransformerConfig transformerConfig() throws EngineException {
        return TransformerConfig.read(configOf(Component.TRANSFORMER));
    }

    @Override
    public VaeConfig vaeConfig() throws EngineException {
        return VaeConfig.read(configOf(Component.VAE_DECODER));
    }

    @Override
    public SchedulerConfig schedulerConfig() throws EngineException {
        return SchedulerConfig.read(schedulerConfigFile());
    }

    @Override
    public Path previewSearchFolder() {
        return root;
    }

    @Override
    public String kind() {
        return layout == Layout.TENSORSTACK ? "ONNX export (TensorStack layout)" : "ONNX export";
    }

    @Override
    public Path tokenizerDir(int index) {
        return root.resolve(index == 1 ? "tokenizer" : "tokenizer_" + index);
    }

    public Path schedulerConfigFile() {
        return root.resolve("scheduler").resolve("scheduler_config.json");
    }

    /** A component's config.json, or the folder's own when the component has none. */
    public Path configOf(Component c) {
        return dir(c).map(d -> d.resolve("config.json")).orElse(root.resolve(c.folder()).resolve("config.json"));
    }

    @Override
    public String displayName() {
        Path name = root.toAbsolutePath().normalize().getFileName();
        return name == null ? root.toString() : name.toString();
    }
}
