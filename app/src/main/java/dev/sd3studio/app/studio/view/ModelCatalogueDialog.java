package dev.sd3studio.app.studio.view;

import dev.sd3studio.app.hub.ModelCatalogue;
import dev.sd3studio.app.hub.T5Variant;
import dev.sd3studio.app.studio.vm.ModelCatalogueViewModel;
import dev.sd3studio.app.studio.vm.ModelCatalogueViewModel.State;
import javafx.beans.binding.Bindings;
import javafx.geometry.Insets;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.CheckBox;
import javafx.scene.control.ChoiceBox;
import javafx.scene.control.Label;
import javafx.scene.control.ListCell;
import javafx.scene.control.ListView;
import javafx.scene.control.ProgressBar;
import javafx.scene.control.TextField;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.VBox;
import javafx.stage.Stage;
import javafx.stage.Window;

/**
 * "Get models": the catalogue (ONNX exports and checkpoint repositories, each marked), any repository
 * id, the T5 choice, the size before downloading, progress, pause and cancel.
 */
public final class ModelCatalogueDialog extends Stage {
    public ModelCatalogueDialog(Window owner, ModelCatalogueViewModel vm) {
        initOwner(owner);
        setTitle("Get models from the Hugging Face Hub");
        ListView<ModelCatalogue.Entry> list = new ListView<>();
        list.setId("catalogueList");
        list.getItems().setAll(vm.entries());
        list.setPrefHeight(260);
        list.setCellFactory(l -> new ListCell<>() {
            @Override
            protected void updateItem(ModelCatalogue.Entry e, boolean empty) {
                super.updateItem(e, empty);
                if (empty || e == null) {
                    setGraphic(null);
                    return;
                }
                // the kind first, so a long repository id cannot push it out of sight
                Label title = new Label(e.title() + "   [" + e.kind() + "]");
                title.getStyleClass().add("text-bold");
                Label about = Controls.help(e.repo() + ": " + e.description() + (e.gated() ? " Access: " + e.access() + "." : ""));
                about.setMaxWidth(600);
                setGraphic(new VBox(2, title, about));
            }
        });
        list.getSelectionModel().selectedItemProperty().addListener((o, a, e) -> {
            if (e != null) {
                vm.pick(e);
            }
        });

        TextField repo = Controls.describe(new TextField(), "catalogueRepo",
                "Any Hub repository with an SD3 ONNX export: owner/name, or owner/name@revision");
        repo.setPromptText("owner/name[@revision]");
        repo.textProperty().bindBidirectional(vm.repoProperty());
        repo.setOnAction(e -> vm.check());
        HBox.setHgrow(repo, Priority.ALWAYS);
        Button check = Controls.describe(new Button("Check"), "catalogueCheck",
                "Read the repository's file list: its layout and download size (nothing large is fetched)");
        check.setOnAction(e -> vm.check());
        CheckBox noT5 = Controls.describe(new CheckBox("Without the T5 encoder (much smaller; generate with Drop T5)"),
                "catalogueNoT5", "Leave text_encoder_3 on the Hub");
        noT5.selectedProperty().bindBidirectional(vm.noT5Property());
        noT5.disableProperty().bind(vm.checkpointProperty());
        ChoiceBox<T5Variant> t5 = Controls.describe(new ChoiceBox<>(), "catalogueT5Variant",
                "Checkpoints: the T5 encoder fetched from text_encoders/. fp8 halves the download and memory of fp16"
                        + " at a small cost in precision; none leaves T5 out (generate with Drop T5)");
        t5.getItems().setAll(T5Variant.values());
        t5.valueProperty().bindBidirectional(vm.t5VariantProperty());
        t5.disableProperty().bind(vm.checkpointProperty().not());

        Label details = Controls.help("");
        details.setId("catalogueDetails");
        details.textProperty().bind(vm.detailsProperty());
        details.setMinHeight(60);
        ProgressBar bar = new ProgressBar();
        bar.setId("catalogueProgress");
        bar.progressProperty().bind(vm.progressProperty());
        bar.setMaxWidth(Double.MAX_VALUE);
        Label progress = Controls.help("");
        progress.setId("catalogueProgressText");
        progress.textProperty().bind(vm.progressTextProperty());

        Button download = Controls.describe(new Button("Download"), "catalogueDownload", "Download and verify the files, then add the model");
        download.getStyleClass().add("accent");
        download.disableProperty().bind(vm.stateProperty().isNotEqualTo(State.READY));
        download.setOnAction(e -> vm.download());
        Button pause = Controls.describe(new Button("Pause"), "cataloguePause", "Stop transferring; Resume continues where it stopped");
        pause.disableProperty().bind(vm.stateProperty().isNotEqualTo(State.DOWNLOADING));
        pause.setOnAction(e -> vm.pause());
        Button resume = Controls.describe(new Button("Resume"), "catalogueResume", "Continue the paused download");
        resume.disableProperty().bind(vm.stateProperty().isNotEqualTo(State.PAUSED));
        resume.setOnAction(e -> vm.resume());
        Button cancel = Controls.describe(new Button("Cancel"), "catalogueCancel", "Stop and delete what was downloaded");
        cancel.disableProperty().bind(Bindings.createBooleanBinding(
                () -> vm.stateProperty().get() != State.DOWNLOADING && vm.stateProperty().get() != State.PAUSED, vm.stateProperty()));
        cancel.setOnAction(e -> vm.cancel());
        Button close = Controls.describe(new Button("Close"), "catalogueClose", "Close; a running download continues");
        close.setOnAction(e -> hide());

        VBox root = new VBox(8, Controls.help("Known-good SD3/SD3.5 models: ONNX exports and Stability AI's checkpoints"
                        + " (sizes come from the Hub when you pick one; gated ones need a token):"),
                list, new HBox(6, Controls.label("Repository", repo), repo, check),
                new HBox(12, noT5, Controls.label("Checkpoint T5", t5), t5), details, bar, progress,
                new HBox(6, download, pause, resume, cancel, close));
        root.setPadding(new Insets(12));
        setScene(new Scene(root, 680, 640));
    }
}
