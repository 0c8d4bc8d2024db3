package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.gallery.FileHashes;
import dev.sd3studio.app.gallery.GalleryItem;
import dev.sd3studio.app.gallery.GalleryStore;
import dev.sd3studio.app.gallery.LoraFinder;
import dev.sd3studio.app.gallery.PngFiles;
import dev.sd3studio.app.gallery.PngMetadata;
import dev.sd3studio.app.gallery.RecordedLora;
import dev.sd3studio.app.studio.task.TaskRunner;
import dev.sd3studio.engine.Sd3Engine;
import dev.sd3studio.engine.api.NoiseSlice;
import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.api.SkipLayerGuidance;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleObjectProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Pictures coming in: dropped or pasted files and gallery items become the start image, and a PNG
 * made by this app offers to put its parameters back into the editor instead.
 */
public final class ImportViewModel {
    private final TaskRunner runner;
    private final PromptViewModel prompt;
    private final ParametersViewModel params;
    private final MaskEditorViewModel mask;
    private final LoraListViewModel loras;
    private final Consumer<UserMessage> messages;
    private final ObjectProperty<ImportOffer> offer = new SimpleObjectProperty<>();
    private long loads;

    ImportViewModel(TaskRunner runner, PromptViewModel prompt, ParametersViewModel params, MaskEditorViewModel mask,
                    LoraListViewModel loras, Consumer<UserMessage> messages) {
        this.runner = runner;
        this.prompt = prompt;
        this.params = params;
        this.mask = mask;
        this.loras = loras;
        this.messages = messages;
    }

    /** A dropped PNG of ours, waiting for "load its parameters" or "use as start image". */
    public ObjectProperty<ImportOffer> offerProperty() { return offer; }

    /** A dropped or pasted file: our own PNGs offer their parameters, other images become the init image. */
    public void dropFiles(List<Path> files) {
        Optional<Path> file = files.stream().filter(Files::isRegularFile).findFirst();
        if (file.isEmpty()) {
            messages.accept(UserMessage.warning("Drop an image file (PNG, JPEG, …) to use it as the start image."));
            return;
        }
        Path f = file.get();
        runner.run("load-image", () -> {
            RgbImage img = Sd3Engine.loadImage(f);
            Map<String, String> meta = f.getFileName().toString().toLowerCase().endsWith(".png")
                    && PngFiles.readText(f).containsKey(PngMetadata.OURS) ? GalleryStore.parameters(f) : Map.of();
            return new ImportOffer(f, meta, img);
        }, o -> {
            if (o.parameters().isEmpty()) {
                setInitImage(o.image(), o.file().getFileName().toString());
            } else {
                offer.set(o);
            }
        }, e -> messages.accept(ErrorMessages.of(e)));
    }

    public void acceptOffer(boolean loadParameters) {
        ImportOffer o = offer.get();
        offer.set(null);
        if (o == null) {
            return;
        }
        if (loadParameters) {
            loadParameters(o.parameters());
        } else {
            setInitImage(o.image(), o.file().getFileName().toString());
        }
    }

    public void setInitImage(RgbImage image, String name) {
        params.initImageProperty().set(image);
        params.initImageNameProperty().set(name);
    }

    public void useAsInit(GalleryItem item) {
        runner.run("load-image", () -> Sd3Engine.loadImage(item.file()),
                img -> setInitImage(img, item.file().getFileName().toString()), e -> messages.accept(ErrorMessages.of(e)));
    }

    /**
     * Puts everything that made a picture back into the editor, so Generate makes it again: prompts
     * (per encoder too), sampler settings, CLIP skip, skip-layer guidance, seed and its place in its batch, and its LoRAs
     * with their scales. A start image the picture did not use is removed; one it did use must be
     * supplied again (the PNG lacks it). The stored mask comes from a file anyone can make, so it is
     * decoded through the task runner, off the UI thread; the rest follows when it is read.
     */
    public void loadParameters(Map<String, String> parameters) {
        Map<String, String> m = new LinkedHashMap<>(parameters); // the worker reads it while the UI may change
        long load = ++loads;
        int imageWidth = PngMetadata.isImageToImage(m) ? mask.imageWidth() : 0; // cleared below otherwise
        int imageHeight = PngMetadata.isImageToImage(m) ? mask.imageHeight() : 0;
        List<Path> loraFolders = loras.folders();
        runner.run("load-parameters", () -> new Read(MaskEditorViewModel.readStored(m, imageWidth, imageHeight),
                new LoraFinder(loraFolders, FileHashes.shared()).findAll(m.get("loras"))), read -> {
            if (load == loads) { // a later load wins over one still being read
                apply(m, read);
            }
        }, e -> messages.accept(ErrorMessages.of(e)));
    }

    /** What is read off the UI thread: the mask, and the LoRAs found in the user's folders (hashing them). */
    private record Read(MaskEditorViewModel.StoredMask mask, LoraFinder.Found loras) {
    }

    private void apply(Map<String, String> m, Read read) {
        prompt.promptProperty().set(m.getOrDefault("prompt", ""));
        prompt.negativeProperty().set(m.getOrDefault("negative_prompt", ""));
        prompt.prompt2Property().set(m.getOrDefault("prompt_2", ""));
        prompt.prompt3Property().set(m.getOrDefault("prompt_3", ""));
        prompt.negative2Property().set(m.getOrDefault("negative_prompt_2", ""));
        prompt.negative3Property().set(m.getOrDefault("negative_prompt_3", ""));
        prompt.perEncoderProperty().set(m.containsKey("prompt_2") || m.containsKey("prompt_3")
                || m.containsKey("negative_prompt_2") || m.containsKey("negative_prompt_3"));
        params.clipSkipProperty().set(intOf(m, "clip_skip").orElse(null));
        intOf(m, "width").ifPresent(params.widthProperty()::set);
        intOf(m, "height").ifPresent(params.heightProperty()::set);
        intOf(m, "steps").ifPresent(params.stepsProperty()::set);
        intOf(m, "max_sequence_length").ifPresent(params.maxSequenceLengthProperty()::set);
        doubleOf(m, "guidance").ifPresent(params.guidanceProperty()::set);
        params.shiftProperty().set(doubleOf(m, "shift").orElse(0.0));
        doubleOf(m, "strength").ifPresent(params.strengthProperty()::set);
        params.dropT5Property().set(Boolean.parseBoolean(m.getOrDefault("drop_t5", "false")));
        restoreSkipLayers(m);
        String made = "";
        if (m.containsKey("seed")) {
            try {
                params.seedProperty().set(Long.parseLong(m.get("seed")));
                params.randomSeedProperty().set(false);
                params.imagesPerPromptProperty().set(1);
                int size = intOf(m, "batch_size").orElse(1);
                int index = intOf(m, "batch_index").orElse(0);
                if (size > 1 && index >= 0 && index < size) {
                    params.noiseSliceProperty().set(new NoiseSlice(size, index));
                    made = " Generate makes picture " + (index + 1) + " of its batch of " + size + " again.";
                }
            } catch (NumberFormatException ignored) {
                // keep the current seed
            }
        }
        List<RecordedLora> missingLoras = loras.restore(read.loras());
        if (!PngMetadata.isImageToImage(m)) {
            params.clearInitImage();
            messages.accept(UserMessage.info("Parameters loaded." + made));
        } else if (params.initImageProperty().get() == null) {
            messages.accept(UserMessage.warning("Parameters loaded. This picture was made from a start image, which"
                    + " its file does not contain: drop that image on the canvas to make it again."));
        } else {
            messages.accept(UserMessage.info("Parameters loaded. This picture was made from a start image; the current"
                    + " start image (" + params.initImageNameProperty().get() + ") is used."));
        }
        if (!missingLoras.isEmpty()) {
            boolean one = missingLoras.size() == 1;
            messages.accept(UserMessage.warning("Parameters loaded, but this picture's LoRA" + (one ? " " : "s ")
                    + String.join(", ", missingLoras.stream().map(RecordedLora::label).toList())
                    + (one ? " is" : " are") + " not in your LoRA folders and left out, so the result will differ."
                    + " Add " + (one ? "it" : "them") + " with Add… in the LoRA panel: a picture's LoRAs are looked for"
                    + " only in the folders you took LoRAs from."));
        }
        mask.restore(read.mask()); // an inpainted picture's mask, over the current start image (a warning if it cannot)
    }

    /** The picture's skip-layer guidance, or off when it had none (the layers typed for the model stay). */
    private void restoreSkipLayers(Map<String, String> m) {
        SkipLayerViewModel slg = params.skipLayers();
        if (!m.containsKey("skip_layers")) {
            slg.onProperty().set(false);
            return;
        }
        slg.layersProperty().set(m.get("skip_layers"));
        slg.commitLayers();
        slg.scaleProperty().set(doubleOf(m, "skip_layer_scale").orElse(SkipLayerGuidance.DEFAULT_SCALE));
        slg.startProperty().set(doubleOf(m, "skip_layer_start").orElse(SkipLayerGuidance.DEFAULT_START));
        slg.stopProperty().set(doubleOf(m, "skip_layer_stop").orElse(SkipLayerGuidance.DEFAULT_STOP));
        slg.onProperty().set(true);
    }

    private static Optional<Integer> intOf(Map<String, String> m, String k) {
        try {
            return Optional.ofNullable(m.get(k)).map(Integer::parseInt);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<Double> doubleOf(Map<String, String> m, String k) {
        try {
            return Optional.ofNullable(m.get(k)).map(Double::parseDouble);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
