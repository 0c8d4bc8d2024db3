package dev.sd3studio.app.studio.view;

import atlantafx.base.theme.Styles;
import dev.sd3studio.app.studio.vm.GenerationQueue;
import dev.sd3studio.app.studio.vm.ImportViewModel;
import dev.sd3studio.app.studio.vm.Job;
import dev.sd3studio.app.studio.vm.MaskEditorViewModel;
import dev.sd3studio.app.studio.vm.LoraListViewModel;
import dev.sd3studio.app.studio.vm.ModelListViewModel;
import dev.sd3studio.app.studio.vm.ParametersViewModel;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import javafx.beans.binding.Bindings;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.ListCell;
import javafx.scene.control.ListView;
import javafx.scene.control.ProgressBar;
import javafx.scene.control.Slider;
import javafx.scene.image.ImageView;
import javafx.scene.input.Clipboard;
import javafx.scene.input.DragEvent;
import javafx.scene.input.TransferMode;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.StackPane;
import javafx.scene.layout.VBox;

import java.io.File;
import java.util.List;

/** The preview canvas (drop/paste target), the init image, progress, Generate/Cancel and the queue. */
final class CanvasView extends VBox {
    /** Narrowest row for the start image's thumbnail, name and strength slider beside the Remove button. */
    private static final double MIN_START_IMAGE_ROW = 230;
    private final ImportViewModel imports;
    private final MaskEditorViewModel mask;
    private final LoraListViewModel loraList;
    private final ModelListViewModel models;

    CanvasView(StudioViewModel studio) {
        super(8);
        GenerationQueue vm = studio.generation();
        this.imports = studio.imports();
        this.mask = studio.mask();
        this.loraList = studio.loras();
        this.models = studio.models();
        ParametersViewModel params = studio.parameters();

        ImageView preview = new ImageView();
        preview.setId("preview");
        preview.setPreserveRatio(true);
        // a 64 px picture enlarged stays crisp (nearest-neighbour); a large one shrunk is smoothed
        preview.smoothProperty().bind(javafx.beans.binding.Bindings.createBooleanBinding(() -> preview.getImage() != null
                && preview.getBoundsInLocal().getWidth() < preview.getImage().getWidth(),
                preview.imageProperty(), preview.boundsInLocalProperty()));
        preview.setAccessibleText("Generated picture and live preview");
        vm.previewProperty().addListener((o, a, img) -> {
            javafx.scene.image.Image fx = img == null ? null : Images.toFx(img);
            // a 64 px result shown large: whole-factor nearest-neighbour, crisp on every pipeline
            preview.setImage(fx == null || vm.runningProperty().get() != null ? fx
                    : Images.nearest(fx, Math.min(8, Images.factor(fx, preview.getFitWidth(), preview.getFitHeight()))));
        });
        Label hint = new Label("Type a prompt and press Generate (Ctrl+Enter).\nDrop or paste an image here to start from it.");
        hint.getStyleClass().add("text-muted");
        hint.visibleProperty().bind(vm.previewProperty().isNull());
        MaskEditorView maskEditor = new MaskEditorView(mask, params.initImageProperty());
        maskEditor.visibleProperty().bind(mask.editingProperty().and(params.initImageProperty().isNotNull()));
        // a generation starts: the canvas shows its preview instead of the mask
        vm.runningProperty().addListener((o, a, job) -> mask.editingProperty().set(job == null && mask.editingProperty().get()));
        StackPane canvas = new StackPane(hint, preview, maskEditor);
        canvas.setId("canvas");
        canvas.setFocusTraversable(true);
        canvas.setAccessibleText("Canvas: drop or paste an image to use it as the start image");
        canvas.getStyleClass().add("canvas");
        canvas.setStyle("-fx-background-color: -color-bg-subtle; -fx-border-color: -color-border-muted; -fx-border-radius: 6; -fx-background-radius: 6;");
        canvas.setMinSize(200, 200);
        canvas.setPrefSize(200, 200); // the picture fills what the split gives; it must not widen the column
        preview.fitWidthProperty().bind(canvas.widthProperty().subtract(16));
        preview.fitHeightProperty().bind(canvas.heightProperty().subtract(16));
        VBox.setVgrow(canvas, Priority.ALWAYS);
        canvas.setOnDragOver(e -> {
            if (e.getDragboard().hasFiles()) {
                e.acceptTransferModes(TransferMode.COPY);
            }
            e.consume();
        });
        canvas.setOnDragDropped(this::dropped);
        canvas.setOnMouseClicked(e -> canvas.requestFocus());

        // the init image, with strength and a clear way out
        ImageView initThumb = new ImageView();
        initThumb.setFitWidth(56);
        initThumb.setFitHeight(56);
        initThumb.setPreserveRatio(true);
        params.initImageProperty().addListener((o, a, img) -> initThumb.setImage(img == null ? null : Images.toFx(img)));
        Label initName = new Label();
        initName.textProperty().bind(Bindings.concat("Start image: ", params.initImageNameProperty()));
        Slider strength = Controls.describe(new Slider(0.05, 1, params.strengthProperty().get()), "strength",
                "Strength: how far the picture may move away from the start image (1 = ignore it almost entirely)");
        strength.valueProperty().bindBidirectional(params.strengthProperty());
        Label strengthValue = new Label();
        strengthValue.textProperty().bind(Bindings.format("%.2f", params.strengthProperty()));
        strengthValue.setMinWidth(Region.USE_PREF_SIZE); // the slider gets shorter in a narrow column, not the number
        Button removeInit = Controls.describe(new Button("Remove start image"), "removeInit",
                "Go back to text-to-image");
        removeInit.setOnAction(e -> params.clearInitImage());
        HBox.setHgrow(strength, Priority.ALWAYS);
        HBox head = new HBox(8, initThumb, new VBox(4, initName, new HBox(6, Controls.label("Strength", strength), strength,
                strengthValue)));
        HBox.setHgrow(head.getChildren().get(1), Priority.ALWAYS);
        head.setAlignment(Pos.CENTER_LEFT);
        javafx.scene.layout.FlowPane init = new javafx.scene.layout.FlowPane(8, 6, head, removeInit);
        // the slider takes the row beside the button; in a narrow column the button moves under it, never cut off
        head.prefWidthProperty().bind(Bindings.createDoubleBinding(() -> {
            double room = Math.floor(init.getWidth() - removeInit.prefWidth(-1) - init.getHgap()) - 2; // 2: pixel snapping
            return room >= MIN_START_IMAGE_ROW ? room : init.getWidth();
        }, init.widthProperty()));
        init.setMinWidth(0);
        init.setId("initImageBar");
        init.setAlignment(Pos.CENTER_LEFT);
        init.visibleProperty().bind(params.initImageProperty().isNotNull());
        init.managedProperty().bind(init.visibleProperty());

        // a dropped PNG of ours: parameters or pixels?
        Label offerText = new Label();
        offerText.setWrapText(true);
        offerText.textProperty().bind(Bindings.createStringBinding(() -> imports.offerProperty().get() == null ? ""
                : imports.offerProperty().get().file().getFileName() + " was made by SD3 Studio.", imports.offerProperty()));
        Button loadParams = Controls.describe(new Button("Load its parameters"), "offerParameters",
                "Put the prompt, size, steps and seed of that picture into the editor");
        loadParams.setOnAction(e -> imports.acceptOffer(true));
        loadParams.getStyleClass().add(Styles.ACCENT);
        Button asInit = Controls.describe(new Button("Use as start image"), "offerInit", "Start image-to-image from its pixels");
        asInit.setOnAction(e -> imports.acceptOffer(false));
        HBox offer = new HBox(8, offerText, loadParams, asInit);
        offer.setId("importOffer");
        offer.setAlignment(Pos.CENTER_LEFT);
        offer.visibleProperty().bind(imports.offerProperty().isNotNull());
        offer.managedProperty().bind(offer.visibleProperty());

        ProgressBar bar = new ProgressBar();
        bar.setId("progress");
        bar.progressProperty().bind(vm.progressProperty());
        bar.setMaxWidth(Double.MAX_VALUE);
        bar.setMinHeight(Region.USE_PREF_SIZE); // a short window scrolls the column; it never squeezes the bar away
        bar.setAccessibleText("Generation progress");
        Label status = new Label();
        status.setId("status");
        status.textProperty().bind(vm.progressTextProperty());
        status.setWrapText(true);
        status.setMaxWidth(Double.MAX_VALUE);
        status.setMinHeight(Region.USE_PREF_SIZE); // wraps to a second line rather than eliding the ETA
        Button generate = Controls.describe(new Button("Generate"), "generate", "Queue a generation with these settings (Ctrl+Enter)");
        generate.getStyleClass().add(Styles.ACCENT);
        generate.setDefaultButton(false);
        generate.disableProperty().bind(vm.canGenerateBinding().not());
        generate.setOnAction(e -> vm.generate());
        Button cancel = Controls.describe(new Button("Cancel"), "cancel", "Stop the running generation (Esc); queued ones stay");
        cancel.disableProperty().bind(vm.runningProperty().isNull());
        cancel.setOnAction(e -> vm.cancel());
        Button paste = Controls.describe(new Button("Paste image"), "paste", "Use the image (or image file) on the clipboard as the start image (Ctrl+V on the canvas)");
        paste.setOnAction(e -> paste());
        canvas.setOnKeyPressed(e -> {
            if (e.isShortcutDown() && e.getCode() == javafx.scene.input.KeyCode.V) {
                paste();
                e.consume();
            }
        });
        // buttons wrap and the status has a line of its own: step, speed and ETA stay readable at any width
        javafx.scene.layout.FlowPane buttons = new javafx.scene.layout.FlowPane(8, 6, generate, cancel, paste);
        buttons.setMinWidth(0);
        VBox actions = new VBox(4, buttons, bar, status);

        ListView<Job> queue = Controls.describe(new ListView<>(vm.jobs()), "queue",
                "Queued generations, run one after another; Delete removes a waiting one");
        queue.setPrefHeight(90);
        queue.setMinHeight(44); // gives way first when the window is short
        queue.setPlaceholder(new Label("Queue empty — keep editing and press Generate to add more."));
        queue.setCellFactory(l -> new ListCell<>() {
            @Override
            protected void updateItem(Job job, boolean empty) {
                super.updateItem(job, empty);
                textProperty().unbind();
                if (empty || job == null) {
                    setText(null);
                } else {
                    textProperty().bind(Bindings.concat(job.label(), " — ", job.statusProperty().asString()));
                }
            }
        });
        queue.setOnKeyPressed(e -> {
            if (e.getCode() == javafx.scene.input.KeyCode.DELETE) {
                vm.remove(queue.getSelectionModel().getSelectedItem());
            }
        });
        MaskToolbar maskTools = new MaskToolbar(mask);
        maskTools.visibleProperty().bind(params.initImageProperty().isNotNull());
        maskTools.managedProperty().bind(maskTools.visibleProperty());
        getChildren().addAll(offer, canvas, init, maskTools, actions, queue);
        setPadding(new Insets(0, 4, 0, 4));
    }

    private void dropped(DragEvent e) {
        boolean ok = e.getDragboard().hasFiles();
        if (ok) {
            handleFiles(e.getDragboard().getFiles());
        }
        e.setDropCompleted(ok);
        e.consume();
    }

    /** What a drop does; also the entry point tests use, since headless robots cannot drag from outside. */
    void handleFiles(List<File> files) {
        if (mask.editingProperty().get() && !files.isEmpty()) {
            mask.loadFile(files.getFirst().toPath()); // while painting a mask, a dropped picture is the mask
            return;
        }
        List<java.nio.file.Path> paths = files.stream().map(File::toPath).toList();
        // a .safetensors is a model checkpoint to add, or a LoRA for the selected model; never a picture
        List<java.nio.file.Path> safetensors = paths.stream().filter(LoraListViewModel::isSafetensors).toList();
        List<java.nio.file.Path> checkpoints = safetensors.stream().filter(ModelListViewModel::isCheckpoint).toList();
        List<java.nio.file.Path> loras = safetensors.stream().filter(p -> !checkpoints.contains(p)).toList();
        checkpoints.forEach(models::addFolder);
        if (!loras.isEmpty()) {
            loraList.add(loras);
        }
        if (safetensors.size() < paths.size()) {
            imports.dropFiles(paths.stream().filter(p -> !safetensors.contains(p)).toList());
        }
    }

    private void paste() {
        Clipboard cb = Clipboard.getSystemClipboard();
        if (cb.hasFiles()) {
            handleFiles(cb.getFiles());
        } else if (cb.hasImage()) {
            imports.setInitImage(Images.fromFx(cb.getImage()), "pasted image");
        }
    }
}
