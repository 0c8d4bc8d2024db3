package dev.sd3studio.app.hub;

import java.util.List;
import java.util.Optional;

/**
 * Public SD3/SD3.5 models known to load in this app: ONNX exports, and Stability AI's own
 * checkpoint repositories (a {@code .safetensors} single file with its text encoders, which the
 * engine opens directly). An export's download size is not listed here: it is read from the Hub's
 * file list (the files this app fetches) when an entry is chosen, so it is always that of the
 * current revision; a checkpoint entry quotes its approximate size per T5 choice, which the file
 * list then confirms.
 */
public final class ModelCatalogue {
    /**
     * One known-good model. {@code gated}: the Hub serves it only to an account that accepted its
     * licence on the model page, with a token. {@code checkpoint}: which files of a checkpoint
     * repository to fetch; empty for an ONNX export.
     */
    public record Entry(String repo, String title, String description, String licence, boolean gated,
                        Optional<CheckpointRepo> checkpoint) {
        public RepoRef ref() {
            return RepoRef.parse(repo);
        }

        public boolean isCheckpoint() {
            return checkpoint.isPresent();
        }

        /** "ONNX export" or "checkpoint (gated)", as the lists show it. */
        public String kind() {
            return (isCheckpoint() ? "checkpoint" : "ONNX export") + (gated ? " (gated)" : "");
        }

        /** What to do before pulling it, or empty when nothing is needed. */
        public String access() {
            return gated ? "gated: log in on " + HubSettings.DEFAULT_ENDPOINT + "/" + repo + " and accept the licence,"
                    + " then set HF_TOKEN (or run `hf auth login`)" : "";
        }
    }

    private static final String STABILITY_COMMUNITY = "Stability AI Community License (free below US$1M annual revenue)";

    private static Entry onnx(String repo, String title, String description) {
        return new Entry(repo, title, description, STABILITY_COMMUNITY, false, Optional.empty());
    }

    private static Entry checkpoint(String repo, String title, String description, CheckpointRepo files) {
        return new Entry(repo, title, description + " Safetensors checkpoint from Stability AI, opened directly;"
                + " " + files.sizesInWords() + ".", STABILITY_COMMUNITY, true, Optional.of(files));
    }

    // file sizes as the Hub's pages list them (decimal GB), rounded
    public static final List<Entry> ENTRIES = List.of(
            onnx("TensorStack/stable-diffusion-3.5-medium-onnx", "SD3.5 Medium",
                    "2.5B-parameter MMDiT-X; the one to start with: best quality per GB, about 28-40 steps at 1024x1024."
                            + " TensorStack export (MMDiT in unet/)."),
            onnx("TensorStack/stable-diffusion-3.5-large-onnx", "SD3.5 Large",
                    "8.1B-parameter MMDiT; highest quality, needs a large GPU or a lot of RAM (use Offload and Drop T5"
                            + " on smaller machines). TensorStack export."),
            onnx("TensorStack/stable-diffusion-3.5-large-turbo-onnx", "SD3.5 Large Turbo",
                    "SD3.5 Large distilled to about 4 steps without guidance: much faster, same memory as Large."
                            + " TensorStack export."),
            checkpoint("stabilityai/stable-diffusion-3.5-medium", "SD3.5 Medium",
                    "The original SD3.5 Medium weights: sd3.5_medium.safetensors with text_encoders/.",
                    CheckpointRepo.singleFile("sd3.5_medium.safetensors", 5_110_000_000L)),
            checkpoint("stabilityai/stable-diffusion-3.5-large", "SD3.5 Large",
                    "The original SD3.5 Large weights: sd3.5_large.safetensors with text_encoders/.",
                    CheckpointRepo.singleFile("sd3.5_large.safetensors", 16_500_000_000L)),
            checkpoint("stabilityai/stable-diffusion-3.5-large-turbo", "SD3.5 Large Turbo",
                    "The original SD3.5 Large Turbo weights (about 4 steps, no guidance): sd3.5_large_turbo.safetensors"
                            + " with text_encoders/.",
                    CheckpointRepo.singleFile("sd3.5_large_turbo.safetensors", 16_500_000_000L)),
            checkpoint("stabilityai/stable-diffusion-3-medium", "SD3 Medium",
                    "The first SD3 release, 2B MMDiT. fp8: the all-in-one sd3_medium_incl_clips_t5xxlfp8.safetensors;"
                            + " fp16 or none: sd3_medium.safetensors with text_encoders/.",
                    CheckpointRepo.withAllInOne("sd3_medium_incl_clips_t5xxlfp8.safetensors", 10_900_000_000L,
                            "sd3_medium.safetensors", 4_340_000_000L)));

    /** The catalogue's entry for a repository (any revision), if it has one. */
    public static Optional<Entry> find(RepoRef ref) {
        return ENTRIES.stream().filter(e -> e.repo().equalsIgnoreCase(ref.repo())).findFirst();
    }

    private ModelCatalogue() {
    }
}
