package dev.sd3studio.app.hub;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Which files of a repository the engine loads, and whether they make a model it can run, decided
 * from the tree listing alone so that nothing large is fetched from a repository we cannot use.
 * Weights in other formats (safetensors, PyTorch), sample images and alternative exports are left
 * on the Hub. {@code modelFile} is the file to pass to {@code --model} when it is not the folder
 * itself (a checkpoint, see {@link CheckpointRepo}).
 */
public record ModelFiles(List<HubFile> files, String layout, Optional<String> modelFile) {
    /** How a pull picks its files from a repository's listing. */
    @FunctionalInterface
    public interface Selector {
        ModelFiles select(RepoRef ref, List<HubFile> listing) throws HubException;
    }

    /** An SD3 ONNX export's files, without {@code text_encoder_3/} when {@code noT5}. */
    public static Selector onnx(boolean noT5) {
        return (ref, listing) -> select(ref, listing, noT5);
    }

    /** A checkpoint repository's files for the T5 choice. */
    public static Selector checkpoint(CheckpointRepo repo, T5Variant t5) {
        return (ref, listing) -> repo.select(ref, listing, t5);
    }

    /** What to open once the files are in {@code folder}: the folder, or the checkpoint file in it. */
    public Path modelPath(Path folder) {
        return modelFile.map(folder::resolve).orElse(folder);
    }

    /** Folders the engine reads: Optimum names, TensorStack's {@code unet}, and a TAESD3 preview decoder. */
    static final Set<String> FOLDERS = Set.of("text_encoder", "text_encoder_2", "text_encoder_3", "transformer", "unet",
            "vae_decoder", "vae_encoder", "tokenizer", "tokenizer_2", "tokenizer_3", "scheduler", "taesd3");
    static final Set<String> ROOT_FILES = Set.of("model_index.json", "license", "license.md", "license.txt", "readme.md");
    private static final List<String> KEPT_SUFFIXES = List.of(".onnx", ".onnx_data", ".onnx.data", ".data", ".pb",
            ".json", ".txt", ".model");
    static final String T5_FOLDER = "text_encoder_3";

    /** Files the listing gives no hash for: installed as received, and the user is told so. */
    public List<HubFile> unverified() {
        return files.stream().filter(f -> f.expectedHash().isEmpty()).toList();
    }

    public long totalBytes() {
        return files.stream().mapToLong(HubFile::size).sum();
    }

    /** The files to fetch, or why the repository is not an SD3 ONNX export we load. */
    public static ModelFiles select(RepoRef ref, List<HubFile> listing, boolean noT5) throws HubException {
        List<HubFile> keep = new ArrayList<>();
        for (HubFile f : listing) {
            if (wanted(f.path(), noT5)) {
                keep.add(f);
            }
        }
        checkNamesAndHashes(ref, keep);
        String transformer = has(keep, "transformer/model.onnx") ? "transformer" : has(keep, "unet/model.onnx") ? "unet" : null;
        List<String> missing = new ArrayList<>();
        for (String required : new String[] {"text_encoder/model.onnx", "text_encoder_2/model.onnx", "vae_decoder/model.onnx"}) {
            if (!has(keep, required)) {
                missing.add(required);
            }
        }
        if (transformer == null) {
            missing.add("transformer/model.onnx (or unet/model.onnx)");
        }
        for (String tok : new String[] {"tokenizer/", "tokenizer_2/"}) {
            if (keep.stream().noneMatch(f -> f.path().startsWith(tok))) {
                missing.add(tok);
            }
        }
        if (!missing.isEmpty()) {
            boolean onnxAnywhere = listing.stream().anyMatch(f -> f.path().endsWith(".onnx"));
            throw new HubException(HubException.Kind.NOT_A_MODEL, ref + " is not an SD3 ONNX export this app loads: missing "
                    + String.join(", ", missing) + (onnxAnywhere ? "" : " (it has no .onnx files at all: it is probably"
                    + " a PyTorch/safetensors model; pick an ONNX export such as TensorStack/stable-diffusion-3.5-medium-onnx, or a checkpoint repository"
                    + " that `sd3studio pull` lists)")
                    + ". Nothing was downloaded.");
        }
        return new ModelFiles(List.copyOf(keep), "unet".equals(transformer) ? "TensorStack" : "Optimum", Optional.empty());
    }

    /** Refuses, before anything is fetched, a name this app will not write or a large file it cannot verify. */
    static void checkNamesAndHashes(RepoRef ref, List<HubFile> keep) throws HubException {
        for (HubFile f : keep) {
            Optional<String> problem = PortablePath.problem(f.path());
            if (problem.isPresent()) {
                throw new HubException(HubException.Kind.UNSAFE_NAME, "the file list of " + ref + " names a file this"
                        + " app will not write: \"" + TerminalSafe.text(f.path()) + "\" " + problem.get() + ". Nothing was"
                        + " downloaded; the repository, or the mirror HF_ENDPOINT points at, is broken or hostile");
            }
        }
        for (HubFile f : keep) {
            if (f.isLfs() && f.expectedHash().isEmpty()) {
                // the Hub always lists an LFS object's SHA-256; without it gigabytes would go unchecked
                throw new HubException(HubException.Kind.NO_HASH, "the file list of " + ref + " gives no SHA-256 for "
                        + f.path() + ", a large (LFS) file, so it cannot be verified. Nothing was downloaded. The Hub"
                        + " always sends it: a mirror or proxy (HF_ENDPOINT) that drops it is broken or not to be trusted");
            }
        }
    }

    private static boolean has(List<HubFile> files, String path) {
        return files.stream().anyMatch(f -> f.path().equals(path));
    }

    static boolean wanted(String path, boolean noT5) {
        String lower = path.toLowerCase(Locale.ROOT);
        int slash = path.indexOf('/');
        if (slash < 0) {
            return ROOT_FILES.contains(lower);
        }
        String folder = path.substring(0, slash);
        if (!FOLDERS.contains(folder) || (noT5 && folder.equals(T5_FOLDER))) {
            return false;
        }
        return KEPT_SUFFIXES.stream().anyMatch(lower::endsWith);
    }
}
