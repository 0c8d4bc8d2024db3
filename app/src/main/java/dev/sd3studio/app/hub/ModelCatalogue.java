package dev.sd3studio.app.hub;

import java.util.List;

/**
 * Public SD3/SD3.5 ONNX exports known to load in this app. Download sizes are not listed here:
 * they are read from the Hub's file list (the files this app fetches) when an entry is chosen,
 * so they are always those of the current revision.
 */
public final class ModelCatalogue {
    /** One known-good export. */
    public record Entry(String repo, String title, String description, String licence) {
        public RepoRef ref() {
            return RepoRef.parse(repo);
        }
    }

    private static final String STABILITY_COMMUNITY = "Stability AI Community License (free below US$1M annual revenue)";

    public static final List<Entry> ENTRIES = List.of(
            new Entry("TensorStack/stable-diffusion-3.5-medium-onnx", "SD3.5 Medium",
                    "2.5B-parameter MMDiT-X; the one to start with: best quality per GB, about 28-40 steps at 1024x1024."
                            + " TensorStack export (MMDiT in unet/).", STABILITY_COMMUNITY),
            new Entry("TensorStack/stable-diffusion-3.5-large-onnx", "SD3.5 Large",
                    "8.1B-parameter MMDiT; highest quality, needs a large GPU or a lot of RAM (use Offload and Drop T5"
                            + " on smaller machines). TensorStack export.", STABILITY_COMMUNITY),
            new Entry("TensorStack/stable-diffusion-3.5-large-turbo-onnx", "SD3.5 Large Turbo",
                    "SD3.5 Large distilled to about 4 steps without guidance: much faster, same memory as Large."
                            + " TensorStack export.", STABILITY_COMMUNITY));

    private ModelCatalogue() {
    }
}
