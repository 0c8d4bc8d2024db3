package dev.sd3studio.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.format.FileContainment;
import dev.sd3studio.engine.format.SafetensorsHeader;
import dev.sd3studio.engine.format.StoredTensor;
import dev.sd3studio.engine.model.Json;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Opens a checkpoint from what the user chose: a Stability AI single file (with its text encoders inside,
 * in a {@code text_encoders/} folder beside it, or named in the options) or a diffusers folder. Reads only
 * headers and configs; refuses, with a message that says why, anything that is not an SD3 checkpoint.
 */
public final class CheckpointOpener {
    private static final String MMDIT = "model.diffusion_model.";
    private static final String VAE = "first_stage_model.";
    private static final String TEXT_ENCODERS = "text_encoders.";
    /** Prefixes of the single-file text encoders, and the file names Stability AI ships them under. */
    private static final Map<CheckpointComponent, String> ENCODER_NAMES = Map.of(
            CheckpointComponent.CLIP_L, "clip_l",
            CheckpointComponent.CLIP_G, "clip_g",
            CheckpointComponent.T5, "t5xxl");
    private static final List<String> PICKLE_EXTENSIONS = List.of(".ckpt", ".pt", ".pth", ".bin", ".pkl", ".pickle");

    private CheckpointOpener() {
    }

    public static Checkpoint open(Path path, CheckpointOptions options) throws EngineException {
        if (!Files.exists(path)) {
            throw new EngineException(Kind.MODEL_NOT_FOUND, path + " does not exist. Check the path.");
        }
        return Files.isDirectory(path) ? openDiffusersFolder(path, options) : openSingleFile(path, options);
    }

    /**
     * Whether a dropped {@code .safetensors} file is a whole model rather than a LoRA, from its header alone:
     * anything but a LoRA is handed to {@link #open}, which names what is wrong with a file that is no SD3
     * checkpoint. An unreadable header counts as a model too, for the same reason.
     */
    public static boolean isModelFile(Path file) {
        try {
            return !KeyRefusals.isLora(SafetensorsHeader.read(file, "file").tensors().keySet());
        } catch (EngineException e) {
            return true;
        }
    }

    // ---- single file ---------------------------------------------------------------------------------------

    private static Checkpoint openSingleFile(Path file, CheckpointOptions options) throws EngineException {
        refuseNonSafetensors(file);
        Path folder = file.toAbsolutePath().getParent();
        List<Path> roots = new ArrayList<>(List.of(file));
        Path encoderFolder = folder.resolve("text_encoders");
        Path configFolder = folder.resolve("config");
        Stream.of(encoderFolder, configFolder).filter(Files::isDirectory).forEach(roots::add);
        Stream.of(options.configDir(), options.clipL(), options.clipG(), options.t5())
                .flatMap(Optional::stream).forEach(roots::add);
        FileContainment rule = FileContainment.of(roots);

        SafetensorsHeader header = SafetensorsHeader.read(rule.requireInside(file), "checkpoint");
        Map<String, StoredTensor> tensors = header.tensors();
        KeyRefusals.refuseOtherModels(file, tensors.keySet());

        Map<CheckpointComponent, ComponentWeights> components = new EnumMap<>(CheckpointComponent.class);
        components.put(CheckpointComponent.TRANSFORMER, weights(CheckpointComponent.TRANSFORMER, WeightNaming.ORIGINAL,
                header, MMDIT, rule));
        components.put(CheckpointComponent.VAE, weights(CheckpointComponent.VAE, WeightNaming.ORIGINAL, header, VAE, rule));
        for (var e : ENCODER_NAMES.entrySet()) {
            CheckpointComponent c = e.getKey();
            Optional<Path> named = switch (c) {
                case CLIP_L -> options.clipL();
                case CLIP_G -> options.clipG();
                default -> options.t5();
            };
            String embedded = TEXT_ENCODERS + e.getValue() + ".transformer.";
            ComponentWeights w;
            if (named.isPresent()) {
                w = encoderFile(c, named.get(), rule);
            } else if (tensors.keySet().stream().anyMatch(k -> k.startsWith(embedded))) {
                w = weights(c, WeightNaming.TRANSFORMERS, header, embedded, rule);
            } else {
                Optional<Path> beside = encoderBeside(encoderFolder, e.getValue());
                w = beside.isPresent() ? encoderFile(c, beside.get(), rule) : null;
            }
            if (w != null) {
                components.put(c, w);
            }
        }
        for (CheckpointComponent required : List.of(CheckpointComponent.TRANSFORMER, CheckpointComponent.VAE)) {
            if (components.get(required).weights().isEmpty()) {
                boolean vae = required == CheckpointComponent.VAE;
                throw new EngineException(Kind.UNKNOWN_LAYOUT, file + " holds no " + (vae ? "VAE" : "MMDiT")
                        + " (no '" + (vae ? VAE : MMDIT) + "' tensors), so it is not an"
                        + " SD3 checkpoint; a text encoder or LoRA file is added differently. SD3 Studio runs SD3 and SD3.5.");
            }
        }
        for (CheckpointComponent clip : List.of(CheckpointComponent.CLIP_L, CheckpointComponent.CLIP_G)) {
            if (!components.containsKey(clip)) {
                throw new EngineException(Kind.MISSING_COMPONENT, file + " comes without " + clip.description()
                        + ". Put " + ENCODER_NAMES.get(clip) + ".safetensors in a text_encoders/ folder beside it, as"
                        + " Stability AI's repository ships it, or name the file with --"
                        + ENCODER_NAMES.get(clip).replace('_', '-') + ".");
            }
        }
        List<Path> configFolders = new ArrayList<>();
        options.configDir().ifPresent(configFolders::add);
        if (Files.isDirectory(configFolder)) {
            configFolders.add(configFolder);
        }
        return finish(file, CheckpointFormat.SINGLE_FILE, components, configFolders, true);
    }

    /** Stability AI's {@code text_encoders/} names (clip_l.safetensors, t5xxl_fp16.safetensors, t5xxl_fp8_e4m3fn…). */
    private static Optional<Path> encoderBeside(Path folder, String stem) throws EngineException {
        if (!Files.isDirectory(folder)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(folder)) {
            List<Path> found = files.filter(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return n.startsWith(stem) && n.endsWith(".safetensors");
            }).sorted().toList();
            // both T5 precisions side by side: the fp16 one is the exact one
            return found.stream().filter(p -> p.getFileName().toString().contains("fp16")).findFirst()
                    .or(() -> found.stream().findFirst());
        } catch (IOException e) {
            throw new EngineException(Kind.IO, "cannot list " + folder + ": " + e.getMessage(), e);
        }
    }

    private static ComponentWeights encoderFile(CheckpointComponent c, Path file, FileContainment rule)
            throws EngineException {
        refuseNonSafetensors(file);
        SafetensorsHeader header = SafetensorsHeader.read(rule.requireInside(file), c.description() + " file");
        KeyRefusals.refuseOtherModels(file, header.tensors().keySet());
        return weights(c, WeightNaming.TRANSFORMERS, header, "", rule);
    }

    // ---- diffusers folder ----------------------------------------------------------------------------------

    private static Checkpoint openDiffusersFolder(Path folder, CheckpointOptions options) throws EngineException {
        if (!Files.isRegularFile(folder.resolve("model_index.json"))
                && !Files.isDirectory(folder.resolve("transformer"))) {
            throw new EngineException(Kind.UNKNOWN_LAYOUT, folder + " is neither a diffusers folder (no"
                    + " model_index.json) nor a checkpoint file. Choose the .safetensors file itself, or the folder"
                    + " that holds model_index.json.");
        }
        List<Path> roots = new ArrayList<>(List.of(folder));
        Stream.of(options.configDir(), options.clipL(), options.clipG(), options.t5())
                .flatMap(Optional::stream).forEach(roots::add);
        FileContainment rule = FileContainment.of(roots);
        Map<CheckpointComponent, ComponentWeights> components = new EnumMap<>(CheckpointComponent.class);
        for (CheckpointComponent c : CheckpointComponent.values()) {
            Optional<Path> named = switch (c) {
                case CLIP_L -> options.clipL();
                case CLIP_G -> options.clipG();
                case T5 -> options.t5();
                default -> Optional.empty();
            };
            if (named.isPresent()) {
                components.put(c, encoderFile(c, named.get(), rule));
                continue;
            }
            Path dir = folder.resolve(c.diffusersFolder());
            if (!Files.isDirectory(dir)) {
                if (c != CheckpointComponent.T5) {
                    throw new EngineException(Kind.MISSING_COMPONENT, folder + " has no " + c.diffusersFolder()
                            + "/ folder with " + c.description() + "; download the whole repository.");
                }
                continue;
            }
            WeightNaming naming = c == CheckpointComponent.TRANSFORMER || c == CheckpointComponent.VAE
                    ? WeightNaming.DIFFUSERS : WeightNaming.TRANSFORMERS;
            Map<String, WeightRef> all = new LinkedHashMap<>();
            List<Path> shards = diffusersWeightFiles(dir);
            for (Path shard : shards) {
                SafetensorsHeader header = SafetensorsHeader.read(rule.requireInside(shard), c.description() + " file");
                all.putAll(weights(c, naming, header, "", rule).weights());
            }
            components.put(c, new ComponentWeights(c, naming, rule.requireInside(shards.getFirst()).getParent(), all));
        }
        List<Path> configFolders = new ArrayList<>();
        options.configDir().ifPresent(configFolders::add);
        configFolders.add(folder);
        // a separate clip_l file follows the single-file rule even beside a diffusers folder
        return finish(folder, CheckpointFormat.DIFFUSERS_FOLDER, components, configFolders, options.clipL().isPresent());
    }

    /** A component folder's safetensors files: the one file, or the shards its index names. */
    private static List<Path> diffusersWeightFiles(Path dir) throws EngineException {
        // the plain files first, then the fp16 "variant" that many Hub repositories also (or only) carry
        for (String stem : List.of("diffusion_pytorch_model", "model", "diffusion_pytorch_model.fp16", "model.fp16")) {
            Path single = dir.resolve(stem + ".safetensors");
            if (Files.isRegularFile(single)) {
                return List.of(single);
            }
            Path index = dir.resolve(stem + ".safetensors.index.json");
            if (Files.isRegularFile(index)) {
                JsonNode map = Json.read(index).path("weight_map");
                List<Path> shards = new ArrayList<>();
                for (JsonNode shard : map) {
                    String name = shard.asText();
                    if (name.contains("/") || name.contains("\\") || name.equals("..")) {
                        throw new EngineException(Kind.CORRUPT_FILE, index + " names a shard outside its folder ("
                                + name + "); download the model again.");
                    }
                    Path p = dir.resolve(name);
                    if (!shards.contains(p)) {
                        shards.add(p);
                    }
                }
                if (shards.isEmpty()) {
                    throw new EngineException(Kind.CORRUPT_FILE, index + " lists no weights; download the model again.");
                }
                return shards;
            }
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
            boolean pickled = names.stream().anyMatch(n -> PICKLE_EXTENSIONS.stream().anyMatch(n::endsWith));
            throw new EngineException(Kind.UNKNOWN_LAYOUT, dir + " has no .safetensors weights"
                    + (pickled ? "; its weights are pickled PyTorch files (.bin), which SD3 Studio never opens"
                    + " because opening them can run code. Download the repository's .safetensors files instead."
                    : "; download the whole repository."));
        } catch (IOException e) {
            throw new EngineException(Kind.IO, "cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    // ---- shared --------------------------------------------------------------------------------------------

    /** The tensors of {@code header} under {@code prefix}, the prefix removed, each range checked. */
    private static ComponentWeights weights(CheckpointComponent c, WeightNaming naming, SafetensorsHeader header,
                                            String prefix, FileContainment rule) throws EngineException {
        Map<String, WeightRef> out = new LinkedHashMap<>();
        for (StoredTensor t : header.tensors().values()) {
            if (!t.name().startsWith(prefix)) {
                continue;
            }
            if (t.dtype() == null) {
                throw new EngineException(Kind.INCOMPATIBLE_MODEL, "tensor '" + t.name() + "' in " + header.file()
                        + " is stored as " + t.dtypeName() + ", a type SD3 Studio cannot read (it reads F32, F16, BF16,"
                        + " F8_E4M3 and F8_E5M2 weights). Use a file saved in one of those.");
            }
            FileContainment.requireRange(header.file(), header.fileSize(), t.offset(), t.length());
            out.put(t.name().substring(prefix.length()),
                    new WeightRef(header.file(), t.offset(), t.length(), t.dtype(), t.shape()));
        }
        return new ComponentWeights(c, naming, header.file().getParent(), out);
    }

    private static Checkpoint finish(Path source, CheckpointFormat format,
                                     Map<CheckpointComponent, ComponentWeights> components, List<Path> configFolders,
                                     boolean clipLIdentity) throws EngineException {
        ComponentWeights mmdit = components.get(CheckpointComponent.TRANSFORMER);
        Map<String, StoredTensor> shapes = new LinkedHashMap<>();
        mmdit.weights().forEach((name, ref) -> shapes.put(name, new StoredTensor(name, ref.dtype().name(), ref.dtype(),
                ref.shape(), ref.offset(), ref.length())));
        TransformerShape shape = TransformerShape.of(shapes, mmdit.naming()).orElseThrow(() -> new EngineException(
                Kind.UNKNOWN_LAYOUT, source + " has no MMDiT patch embedder, so it is not an SD3 checkpoint."));
        Optional<ModelFamily> family = ModelFamily.detect(shape, source.getFileName().toString());
        CheckpointConfigs configs = CheckpointConfigs.resolve(configFolders, family);
        ShapeChecks.check(source, shape, components, configs);
        return new Checkpoint(source, format, family, components, configs, clipLIdentity);
    }

    /** Pickles are refused by name and by content, before anything else reads them. */
    private static void refuseNonSafetensors(Path file) throws EngineException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (PICKLE_EXTENSIONS.stream().anyMatch(name::endsWith)) {
            throw KeyRefusals.pickle(file);
        }
        byte[] head = new byte[4];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, 4);
        } catch (IOException e) {
            throw new EngineException(Kind.IO, "cannot read " + file + ": " + e.getMessage()
                    + ". Check the path and its permissions.", e);
        }
        boolean zip = n == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
        boolean rawPickle = n >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5;
        if (zip || rawPickle) {
            throw KeyRefusals.pickle(file);
        }
        if (!name.endsWith(".safetensors")) {
            throw new EngineException(Kind.UNKNOWN_LAYOUT, file + " is not a .safetensors checkpoint. SD3 Studio opens"
                    + " SD3 and SD3.5 .safetensors files, diffusers folders and ONNX exports.");
        }
    }
}
