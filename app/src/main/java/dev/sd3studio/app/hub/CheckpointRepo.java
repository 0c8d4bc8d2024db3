package dev.sd3studio.app.hub;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A Stability AI checkpoint repository: for each T5 choice, the files a pull fetches (first the
 * checkpoint, the file to pass to {@code --model}, then what goes in {@code text_encoders/} beside
 * it, where the engine looks) and about how many bytes that is, as the Hub's pages list them. The
 * repositories also hold a diffusers copy of the same weights ({@code transformer/},
 * {@code text_encoder*}/, {@code vae/}) and other variants of the single file: those stay on the Hub.
 */
public record CheckpointRepo(Map<T5Variant, List<String>> files, Map<T5Variant, Long> approxBytes) {
    static final String TEXT_ENCODERS = "text_encoders/";
    static final String CLIP_L = TEXT_ENCODERS + "clip_l.safetensors";
    static final String CLIP_G = TEXT_ENCODERS + "clip_g.safetensors";
    // sizes as the Hub lists the text_encoders/ files (the same in every SD3/SD3.5 repository)
    private static final long CLIP_L_BYTES = 246_000_000L;
    private static final long CLIP_G_BYTES = 1_390_000_000L;
    private static final Map<T5Variant, Long> T5_BYTES = Map.of(T5Variant.FP16, 9_790_000_000L,
            T5Variant.FP8, 4_890_000_000L, T5Variant.NONE, 0L);

    public CheckpointRepo {
        files = Map.copyOf(files);
        approxBytes = Map.copyOf(approxBytes);
        for (T5Variant v : T5Variant.values()) {
            if (files.getOrDefault(v, List.of()).isEmpty() || !approxBytes.containsKey(v)) {
                throw new IllegalArgumentException("a checkpoint repository needs files and a size for T5 " + v);
            }
        }
    }

    /** A single file (MMDiT and VAE) with CLIP-L, CLIP-G and the chosen T5 from {@code text_encoders/}: the SD3.5 repositories. */
    public static CheckpointRepo singleFile(String file, long fileBytes) {
        Map<T5Variant, List<String>> files = new EnumMap<>(T5Variant.class);
        Map<T5Variant, Long> bytes = new EnumMap<>(T5Variant.class);
        for (T5Variant v : T5Variant.values()) {
            files.put(v, withEncoders(file, v));
            bytes.put(v, fileBytes + CLIP_L_BYTES + CLIP_G_BYTES + T5_BYTES.get(v));
        }
        return new CheckpointRepo(files, bytes);
    }

    /**
     * A repository whose all-in-one file already holds the fp8 T5 (SD3 Medium): fp8 fetches that one
     * file; fp16 and none fetch the bare single file and the encoders from {@code text_encoders/}.
     */
    public static CheckpointRepo withAllInOne(String allInOneFp8, long allInOneBytes, String bareFile, long bareBytes) {
        CheckpointRepo split = singleFile(bareFile, bareBytes);
        Map<T5Variant, List<String>> files = new EnumMap<>(split.files());
        Map<T5Variant, Long> bytes = new EnumMap<>(split.approxBytes());
        files.put(T5Variant.FP8, List.of(allInOneFp8));
        bytes.put(T5Variant.FP8, allInOneBytes);
        return new CheckpointRepo(files, bytes);
    }

    private static List<String> withEncoders(String file, T5Variant t5) {
        List<String> names = new ArrayList<>(List.of(file, CLIP_L, CLIP_G));
        t5.fileName().ifPresent(n -> names.add(TEXT_ENCODERS + n));
        return List.copyOf(names);
    }

    /** The files to fetch for {@code t5}, the checkpoint first. */
    public List<String> filesFor(T5Variant t5) {
        return files.get(t5);
    }

    /** The file to pass to {@code --model}, relative to the download folder. */
    public String modelFile(T5Variant t5) {
        return files.get(t5).getFirst();
    }

    public long approxBytes(T5Variant t5) {
        return approxBytes.get(t5);
    }

    /** "about 10.8 GB with the fp8 T5, 15.4 GB with fp16, 6.3 GB without T5". */
    public String sizesInWords() {
        return "about " + Sizes.human(approxBytes(T5Variant.FP8)) + " with the fp8 T5, "
                + Sizes.human(approxBytes(T5Variant.FP16)) + " with fp16, "
                + Sizes.human(approxBytes(T5Variant.NONE)) + " without T5";
    }

    /** The listed files a pull with {@code t5} fetches, checked as an ONNX export's are; or why the repository lacks them. */
    public ModelFiles select(RepoRef ref, List<HubFile> listing, T5Variant t5) throws HubException {
        List<HubFile> keep = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String wanted : filesFor(t5)) {
            Optional<HubFile> listed = listing.stream().filter(f -> f.path().equals(wanted)).findFirst();
            listed.ifPresentOrElse(keep::add, () -> missing.add(wanted));
        }
        if (!missing.isEmpty()) {
            throw new HubException(HubException.Kind.NOT_A_MODEL, ref + " does not list " + String.join(", ", missing)
                    + ", which this app fetches for the T5 choice " + t5 + ". Nothing was downloaded. Check the"
                    + " revision, or try another --t5-variant");
        }
        ModelFiles.checkNamesAndHashes(ref, keep);
        return new ModelFiles(List.copyOf(keep), "Stability AI checkpoint", Optional.of(modelFile(t5)));
    }
}
