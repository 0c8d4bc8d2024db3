package dev.sd3studio.app.studio.view;

import dev.sd3studio.engine.api.WeightPrecision;

import dev.sd3studio.app.studio.vm.ModelEntry;
import dev.sd3studio.app.studio.vm.ModelListViewModel;
import dev.sd3studio.app.studio.vm.ParametersViewModel;
import dev.sd3studio.app.studio.vm.SizePreset;
import dev.sd3studio.app.studio.vm.SkipLayerViewModel;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import javafx.beans.binding.Bindings;
import javafx.css.PseudoClass;
import javafx.scene.control.Button;
import javafx.scene.control.CheckBox;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.TextField;
import javafx.scene.input.Clipboard;
import javafx.scene.input.ClipboardContent;
import javafx.scene.layout.ColumnConstraints;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.FlowPane;
import javafx.scene.layout.Region;
import javafx.scene.layout.Priority;
import javafx.scene.control.MenuButton;
import javafx.scene.control.MenuItem;
import javafx.stage.DirectoryChooser;
import javafx.stage.FileChooser;

import java.util.List;

/** Model, size, sampler, seed, device and memory toggles, laid out as one labelled grid. */
final class ParametersView extends GridPane {
    private static final PseudoClass DANGER = PseudoClass.getPseudoClass("danger");
    private final ParametersViewModel vm;
    private int row;

    /** Width of the width and height fields: room for four digits beside the arrows. */
    static final double SIZE_FIELD_WIDTH = 100;

    ParametersView(StudioViewModel studio) {
        vm = studio.parameters();
        setHgap(8);
        setVgap(6);
        ColumnConstraints labels = new ColumnConstraints();
        labels.setMinWidth(72); // the labels keep their whole text anyway; 90 made the editor 11 px wider than its narrowest column
        ColumnConstraints fields = new ColumnConstraints();
        fields.setHgrow(Priority.ALWAYS);
        fields.setFillWidth(true);
        getColumnConstraints().addAll(labels, fields);

        ModelListViewModel models = studio.models();
        ComboBox<ModelEntry> model = Controls.describe(new ComboBox<>(models.entries()), "model",
                "The model folder to generate with: the built-in demo model or folders you added");
        // one way each: the view-model decides whether a selection applies the model's defaults
        model.setValue(vm.modelProperty().get());
        vm.modelProperty().addListener((o, a, m) -> model.setValue(m));
        model.valueProperty().addListener((o, a, m) -> models.choose(m));
        model.setMaxWidth(Double.MAX_VALUE);
        // two choosers, because no platform dialog picks "a file or a folder"
        MenuItem addFolder = new MenuItem("Model folder… (ONNX export or diffusers)");
        addFolder.setOnAction(e -> {
            DirectoryChooser chooser = new DirectoryChooser();
            chooser.setTitle("Choose an SD3 model folder");
            var dir = chooser.showDialog(getScene().getWindow());
            if (dir != null) {
                models.addFolder(dir.toPath());
            }
        });
        MenuItem addFile = new MenuItem("Checkpoint file… (.safetensors)");
        addFile.setOnAction(e -> {
            FileChooser chooser = new FileChooser();
            chooser.setTitle("Choose an SD3 or SD3.5 checkpoint");
            chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter("SD3 checkpoint (*.safetensors)", "*.safetensors"));
            var file = chooser.showOpenDialog(getScene().getWindow());
            if (file != null) {
                models.addFolder(file.toPath());
            }
        });
        MenuButton add = Controls.describe(new MenuButton("Add model…", null, addFolder, addFile), "addModel",
                "Add a model: an SD3 ONNX export folder, a diffusers folder, or a .safetensors checkpoint file"
                        + " (also by dropping it onto the canvas)");
        Button remove = Controls.describe(new Button("Remove"), "removeModel", "Forget the chosen model folder (files stay)");
        remove.disableProperty().bind(Bindings.createBooleanBinding(
                () -> vm.modelProperty().get() == null || vm.modelProperty().get().builtIn(), vm.modelProperty()));
        remove.setOnAction(e -> models.remove(vm.modelProperty().get()));
        HBox.setHgrow(model, Priority.ALWAYS);
        add("Model", model, model);
        Button hub = Controls.describe(new Button("Get models…"), "getModels",
                "Download an SD3.5 ONNX model from the Hugging Face Hub (catalogue, or any repository id)");
        hub.setOnAction(e -> Dialogs.showCatalogue(getScene().getWindow(), models));
        javafx.scene.layout.FlowPane modelButtons = new javafx.scene.layout.FlowPane(6, 6, add, remove, hub);
        wrapAtItsWidth(modelButtons, 200);
        add(modelButtons, 1, row++);
        Label note = Controls.help("");
        note.setId("modelNote");
        note.textProperty().bind(models.noteProperty());
        add(note, 1, row++);

        ComboBox<SizePreset> preset = Controls.describe(new ComboBox<>(vm.presets()), "sizePreset",
                "The sizes the model was made for (SD3: about one megapixel); Custom keeps your own size");
        preset.valueProperty().bindBidirectional(vm.presetProperty());
        preset.setMaxWidth(Double.MAX_VALUE);
        add("Size", preset, preset);
        var w = whole("Width", "width", "Width in pixels, a multiple of 16", vm.widthProperty(), 16, 4096, 16);
        var h = whole("Height", "height", "Height in pixels, a multiple of 16", vm.heightProperty(), 16, 4096, 16);
        // each field wide enough for "4096"; in a narrow editor column the height wraps under the width
        w.setPrefWidth(SIZE_FIELD_WIDTH);
        h.setPrefWidth(SIZE_FIELD_WIDTH);
        HBox widthAndTimes = new HBox(6, w, new Label("×"));
        widthAndTimes.setAlignment(javafx.geometry.Pos.CENTER_LEFT);
        javafx.scene.layout.FlowPane size = new javafx.scene.layout.FlowPane(6, 6, widthAndTimes, h);
        size.setAlignment(javafx.geometry.Pos.CENTER_LEFT);
        wrapAtItsWidth(size, 2 * SIZE_FIELD_WIDTH + 30);
        add(size, 1, row++);
        Label sizeNote = Controls.help("");
        sizeNote.setId("sizeNote");
        sizeNote.textProperty().bind(vm.sizeNoteProperty());
        sizeNote.visibleProperty().bind(vm.sizeNoteProperty().isNotEmpty());
        sizeNote.setWrapText(true);
        sizeNote.managedProperty().bind(sizeNote.visibleProperty());
        add(sizeNote, 1, row++);

        add("Steps", null, whole("Steps", "steps", "Denoising steps: more is slower and usually finer (28 for SD3, 4 for turbo models)",
                vm.stepsProperty(), 1, 200, 1));
        add("Guidance", null, decimal("Guidance", "guidance",
                "How strongly the prompt steers (CFG scale); 1 or less turns guidance off (turbo models)",
                vm.guidanceProperty(), 0, 30, 0.5));
        add("Shift", null, decimal("Shift", "shift",
                "Schedule shift; starts at the model's own setting (3.0 for SD3); 0 also means the model's",
                vm.shiftProperty(), 0, 20, 0.5));

        // 0 shows "no skip" (the engine's null); loading a picture's parameters sets it like any other field
        javafx.beans.property.IntegerProperty skip = new javafx.beans.property.SimpleIntegerProperty(
                vm.clipSkipProperty().get() == null ? 0 : vm.clipSkipProperty().get());
        skip.addListener((o, a, v) -> vm.clipSkipProperty().set(v.intValue() == 0 ? null : v.intValue()));
        vm.clipSkipProperty().addListener((o, a, v) -> skip.set(v == null ? 0 : v));
        add("CLIP skip", null, whole("CLIP skip", "clipSkip",
                "Use an earlier layer of the two CLIP encoders (diffusers' clip_skip); 0 uses the usual one", skip, 0, 10, 1));
        addSkipLayerGuidance();

        CheckBox random = Controls.describe(new CheckBox("Random"), "randomSeed", "A new random seed for every generation");
        random.selectedProperty().bindBidirectional(vm.randomSeedProperty());
        TextField seed = Controls.describe(new TextField(), "seed", "The fixed seed: the same seed and parameters give the same picture");
        seed.setText(Long.toString(vm.seedProperty().get()));
        seed.textProperty().addListener((o, a, t) -> {
            try {
                vm.seedProperty().set(Long.parseLong(t.trim()));
            } catch (NumberFormatException ignored) {
                // not a number yet
            }
        });
        vm.seedProperty().addListener((o, a, v) -> {
            if (!seed.getText().trim().equals(v.toString())) {
                seed.setText(v.toString());
            }
        });
        seed.disableProperty().bind(vm.randomSeedProperty());
        seed.setPrefColumnCount(10);
        Button reuse = Controls.describe(new Button("Reuse"), "reuseSeed", "Fix the seed of the last generated picture");
        reuse.disableProperty().bind(vm.lastSeedProperty().isNull());
        reuse.setOnAction(e -> vm.reuseLastSeed());
        Button copy = Controls.describe(new Button("Copy"), "copySeed", "Copy the last seed (or the fixed one) to the clipboard");
        copy.setOnAction(e -> {
            ClipboardContent c = new ClipboardContent();
            Long last = vm.lastSeedProperty().get();
            c.putString(Long.toString(last != null ? last : vm.seedProperty().get()));
            Clipboard.getSystemClipboard().setContent(c);
        });
        HBox.setHgrow(seed, Priority.ALWAYS);
        add("Seed", seed, new HBox(6, random, seed));
        add(new HBox(6, reuse, copy), 1, row++);
        Label slice = Controls.help("");
        slice.setId("batchSlice");
        slice.textProperty().bind(Bindings.createStringBinding(() -> vm.noiseSliceProperty().get() == null ? ""
                : "Makes picture " + (vm.noiseSliceProperty().get().index() + 1) + " of this seed's batch of "
                + vm.noiseSliceProperty().get().batchSize() + ".", vm.noiseSliceProperty()));
        Button wholeBatch = Controls.describe(new Button("✕"), "clearBatchSlice", "Forget the batch position: the seed makes its first picture");
        wholeBatch.getStyleClass().add(atlantafx.base.theme.Styles.FLAT);
        wholeBatch.setOnAction(e -> vm.noiseSliceProperty().set(null));
        HBox sliceRow = new HBox(4, slice, wholeBatch);
        sliceRow.setAlignment(javafx.geometry.Pos.CENTER_LEFT);
        sliceRow.visibleProperty().bind(vm.noiseSliceProperty().isNotNull());
        sliceRow.managedProperty().bind(sliceRow.visibleProperty());
        add(sliceRow, 1, row++);
        add("Images", null, whole("Images", "imagesPerPrompt",
                "Images per prompt, made as one batch from one seed (one noise draw, as diffusers does); each"
                + " picture records its place in the batch, so it can be made again alone", vm.imagesPerPromptProperty(), 1, 16, 1));

        ComboBox<String> device = Controls.describe(new ComboBox<>(), "device", "Where to run: the CPU, or a CUDA GPU by number");
        device.setItems(vm.devices());
        device.setConverter(new javafx.util.StringConverter<>() {
            @Override
            public String toString(String d) {
                return vm.deviceName(d);
            }

            @Override
            public String fromString(String s) {
                return s;
            }
        });
        device.valueProperty().bindBidirectional(vm.deviceProperty());
        Button gpu = Controls.describe(new Button("GPU…"), "gpuButton",
                "NVIDIA GPU: what is installed and missing, and the GPU pack download");
        gpu.setOnAction(e -> Dialogs.showGpu(getScene().getWindow()));
        // never narrower than their text ("…" at 200 %): the button moves under the list when the column is narrow
        device.setMinWidth(Region.USE_PREF_SIZE);
        gpu.setMinWidth(Region.USE_PREF_SIZE);
        FlowPane deviceRow = new FlowPane(6, 6, device, gpu);
        deviceRow.setId("deviceRow");
        add("Device", device, deviceRow);
        Label deviceNote = Controls.help("");
        deviceNote.setId("deviceNote");
        deviceNote.textProperty().bind(vm.deviceNoteProperty());
        deviceNote.visibleProperty().bind(vm.deviceNoteProperty().isNotEmpty());
        deviceNote.setWrapText(true);
        deviceNote.managedProperty().bind(deviceNote.visibleProperty());
        add(deviceNote, 1, row++);

        CheckBox offload = Controls.describe(new CheckBox("Offload models"), "offload", ParametersViewModel.OFFLOAD_HELP);
        offload.selectedProperty().bindBidirectional(vm.offloadProperty());
        add(offload, 1, row++);
        add(Controls.help(ParametersViewModel.OFFLOAD_HELP), 1, row++);
        ComboBox<WeightPrecision> weights = Controls.describe(new ComboBox<>(
                javafx.collections.FXCollections.observableArrayList(WeightPrecision.values())), "weights",
                ParametersViewModel.WEIGHTS_HELP);
        weights.setConverter(new javafx.util.StringConverter<>() {
            @Override
            public String toString(WeightPrecision w) {
                return w == null ? "" : switch (w) {
                    case STORED -> "As stored";
                    case INT8 -> "8-bit (int8)";
                    case INT4 -> "4-bit (int4)";
                };
            }

            @Override
            public WeightPrecision fromString(String s) {
                return WeightPrecision.STORED;
            }
        });
        weights.valueProperty().bindBidirectional(vm.weightsProperty());
        add("Weights", weights, weights);
        Label saving = Controls.help("");
        saving.setId("weightsSaving");
        Runnable showSaving = () -> saving.setText(vm.weightsSaving());
        vm.weightsProperty().addListener((o, a, b) -> showSaving.run());
        vm.modelProperty().addListener((o, a, b) -> showSaving.run());
        showSaving.run();
        saving.visibleProperty().bind(saving.textProperty().isNotEmpty());
        saving.managedProperty().bind(saving.visibleProperty());
        add(saving, 1, row++);
        CheckBox dropT5 = Controls.describe(new CheckBox("Drop T5 encoder"), "dropT5", ParametersViewModel.DROP_T5_HELP);
        dropT5.selectedProperty().bindBidirectional(vm.dropT5Property());
        add(dropT5, 1, row++);
        add(Controls.help(ParametersViewModel.DROP_T5_HELP), 1, row++);
        var t5 = whole("T5 tokens", "maxSequenceLength", "T5 prompt length in tokens (the T5 limit shown under the prompt)",
                vm.maxSequenceLengthProperty(), 32, 512, 32);
        t5.disableProperty().bind(vm.dropT5Property());
        add("T5 tokens", t5, t5);
    }

    /**
     * The SLG switch with its cost beside it, the layers (checked as typed against the model's blocks:
     * red, the range in the tooltip, Esc goes back), what the model recommends, and the advanced values
     * one click away (shown only while SLG is on).
     */
    private void addSkipLayerGuidance() {
        SkipLayerViewModel slg = vm.skipLayers();
        CheckBox on = Controls.describe(new CheckBox("On"), "skipLayersOn", SkipLayerViewModel.HELP);
        on.selectedProperty().bindBidirectional(slg.onProperty());
        Label cost = Controls.help("");
        cost.setId("skipLayerCost");
        cost.setWrapText(false);
        cost.textProperty().bind(slg.costBinding());
        javafx.scene.layout.FlowPane switchRow = new javafx.scene.layout.FlowPane(10, 2, on, cost);
        switchRow.setPrefWrapLength(200); // the cost goes under the switch in a narrow column
        switchRow.setAlignment(javafx.geometry.Pos.CENTER_LEFT);
        add("SLG", on, switchRow);

        String own = "The transformer blocks to bypass, counted from 0 and separated by commas (7,8,9 for SD3.5 Medium)";
        TextField layers = Controls.describe(new TextField(), "skipLayers", own);
        layers.textProperty().bindBidirectional(slg.layersProperty());
        // the model's own recommendation, else a range it has: never SD3.5 Medium's 7,8,9 on a model without them
        layers.promptTextProperty().bind(Bindings.createStringBinding(() -> {
            List<Integer> recommended = slg.recommendedProperty().get();
            int blocks = slg.blocksProperty().get();
            if (!recommended.isEmpty()) {
                return recommended.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","));
            }
            return blocks > 0 ? "blocks 0–" + (blocks - 1) : "";
        }, slg.recommendedProperty(), slg.blocksProperty()));
        layers.disableProperty().bind(slg.onProperty().not());
        layers.getTooltip().textProperty().bind(Bindings.createStringBinding(() -> slg.problemProperty().get() == null
                ? own + ". " + slg.noteBinding().get()
                : slg.problemProperty().get() + ". Esc goes back to the last usable layers.\n\n" + own + ".",
                slg.problemProperty(), slg.noteBinding()));
        slg.problemProperty().addListener((o, a, p) -> layers.pseudoClassStateChanged(DANGER, p != null));
        layers.pseudoClassStateChanged(DANGER, slg.problemProperty().get() != null);
        layers.addEventFilter(javafx.scene.input.KeyEvent.KEY_PRESSED, e -> {
            if (e.getCode() == javafx.scene.input.KeyCode.ENTER) {
                slg.commitLayers();
            } else if (e.getCode() == javafx.scene.input.KeyCode.ESCAPE && slg.problemProperty().get() != null) {
                slg.revertLayers();
                e.consume();
            }
        });
        layers.focusedProperty().addListener((o, was, is) -> {
            if (!is) {
                slg.commitLayers();
            }
        });
        add("Layers", layers, layers);
        Label note = Controls.help("");
        note.setId("skipLayerNote");
        note.textProperty().bind(slg.noteBinding());
        note.managedProperty().bind(note.textProperty().isNotEmpty());
        add(note, 1, row++);

        javafx.beans.property.BooleanProperty open = new javafx.beans.property.SimpleBooleanProperty(false);
        Button advanced = Controls.describe(new Button(), "skipLayerAdvanced",
                "Show or hide the scale and the part of the steps that gets the extra pass");
        advanced.textProperty().bind(Bindings.when(open).then("▾ Scale, start, stop").otherwise("▸ Scale, start, stop"));
        advanced.getStyleClass().addAll(atlantafx.base.theme.Styles.FLAT, atlantafx.base.theme.Styles.SMALL);
        advanced.setOnAction(e -> open.set(!open.get()));
        advanced.disableProperty().bind(slg.onProperty().not());
        add(advanced, 1, row++);
        var shown = open.and(slg.onProperty());
        shownWhen(shown, "SLG scale", decimal("SLG scale", "skipLayerScale",
                "How hard the picture is pushed away from the skipped-layer prediction (2.8 for SD3.5 Medium)",
                slg.scaleProperty(), 0, 10, 0.1));
        shownWhen(shown, "SLG start", decimal("SLG start", "skipLayerStart",
                "Fraction of the steps after which the extra pass starts (0.01)", slg.startProperty(), 0, 1, 0.01));
        shownWhen(shown, "SLG stop", decimal("SLG stop", "skipLayerStop",
                "Fraction of the steps where the extra pass stops (0.2)", slg.stopProperty(), 0, 1, 0.01));
    }

    /** A labelled row that takes no space while {@code shown} is false. */
    private void shownWhen(javafx.beans.value.ObservableBooleanValue shown, String label, javafx.scene.Node field) {
        Label l = Controls.label(label, field);
        for (javafx.scene.Node n : List.of(l, field)) {
            n.visibleProperty().bind(shown);
            n.managedProperty().bind(n.visibleProperty());
        }
        add(l, 0, row);
        add(field, 1, row++);
    }

    private javafx.scene.control.Spinner<Integer> whole(String name, String id, String tooltip,
                                                        javafx.beans.property.IntegerProperty p, int min, int max, int step) {
        return Controls.describe(NumberFields.whole(name, p, min, max, step, vm.typedProblems()), id, tooltip + NumberFields.HOW);
    }

    private javafx.scene.control.Spinner<Double> decimal(String name, String id, String tooltip,
                                                         javafx.beans.property.DoubleProperty p, double min, double max, double step) {
        return Controls.describe(NumberFields.decimal(name, p, min, max, step, vm.typedProblems()), id, tooltip + NumberFields.HOW);
    }

    /**
     * The row wraps in a narrow editor column instead of widening it. The grid asks for its height without a
     * width, so the wrap length follows the width it got: a fixed one reserved a third, empty row.
     */
    private static void wrapAtItsWidth(javafx.scene.layout.FlowPane row, double initial) {
        row.setPrefWrapLength(initial);
        row.widthProperty().addListener((o, was, w) -> {
            if (w.doubleValue() > 0) {
                row.setPrefWrapLength(w.doubleValue());
            }
        });
    }

    private void add(String label, javafx.scene.Node labelFor, javafx.scene.Node field) {
        add(Controls.label(label, labelFor != null ? labelFor : field), 0, row);
        add(field, 1, row++);
    }
}
