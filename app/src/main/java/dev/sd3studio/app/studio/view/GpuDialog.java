package dev.sd3studio.app.studio.view;

import dev.sd3studio.app.studio.vm.GpuViewModel;
import dev.sd3studio.app.studio.vm.GpuViewModel.State;
import javafx.beans.binding.Bindings;
import javafx.geometry.Insets;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.ProgressBar;
import javafx.scene.control.TextArea;
import javafx.scene.layout.HBox;
import javafx.scene.layout.StackPane;
import javafx.scene.layout.VBox;
import javafx.stage.Stage;
import javafx.stage.Window;

/** The device panel's GPU dialog: what is there and missing, and the GPU pack install after showing its size. */
public final class GpuDialog extends Stage {
    public GpuDialog(Window owner, GpuViewModel vm) {
        initOwner(owner);
        setTitle("NVIDIA GPU support");
        TextArea status = new TextArea();
        status.setId("gpuStatus");
        status.setEditable(false);
        status.setWrapText(true);
        status.setStyle("-fx-font-family: monospace;");
        status.textProperty().bind(vm.statusProperty());
        status.setPrefRowCount(13);

        Label offer = Controls.help("");
        offer.setId("gpuOffer");
        offer.textProperty().bind(vm.offerProperty());
        Button prepare = Controls.describe(new Button("Install GPU pack…"), "gpuInstall",
                "Download ONNX Runtime's GPU natives and NVIDIA's CUDA 12 + cuDNN 9 runtime (shows the size first)");
        String prepareHelp = prepare.getTooltip().getText();
        prepare.disableProperty().bind(Bindings.createBooleanBinding(() -> vm.stateProperty().get() == State.PLANNING
                || vm.stateProperty().get() == State.INSTALLING || !vm.installBlockedProperty().get().isEmpty(),
                vm.stateProperty(), vm.installBlockedProperty()));
        prepare.getTooltip().textProperty().bind(Bindings.createStringBinding(() -> vm.installBlockedProperty().get().isEmpty()
                ? prepareHelp : vm.installBlockedProperty().get(), vm.installBlockedProperty()));
        // a disabled button shows no tooltip, so its holder shows the same one
        StackPane prepareHolder = new StackPane(prepare);
        javafx.scene.control.Tooltip.install(prepareHolder, prepare.getTooltip());
        prepare.setOnAction(e -> vm.prepareInstall());
        Button confirm = Controls.describe(new Button("Download and install"), "gpuConfirm", "Start the download shown above");
        confirm.getStyleClass().add("accent");
        confirm.visibleProperty().bind(vm.stateProperty().isEqualTo(State.CONFIRM));
        confirm.managedProperty().bind(confirm.visibleProperty());
        confirm.setOnAction(e -> vm.install());
        Button refresh = Controls.describe(new Button("Check again"), "gpuRefresh", "Look for the driver and libraries again");
        refresh.setOnAction(e -> vm.refresh());
        Button close = Controls.describe(new Button("Close"), "gpuClose", "Close; an install continues");
        close.setOnAction(e -> hide());
        ProgressBar bar = new ProgressBar();
        bar.setId("gpuProgress");
        bar.progressProperty().bind(vm.progressProperty());
        bar.setMaxWidth(Double.MAX_VALUE);
        bar.visibleProperty().bind(vm.stateProperty().isEqualTo(State.INSTALLING).or(vm.stateProperty().isEqualTo(State.DONE)));
        Label progress = Controls.help("");
        progress.setId("gpuProgressText");
        progress.textProperty().bind(vm.progressTextProperty());

        VBox root = new VBox(8, status, offer, new HBox(6, prepareHolder, confirm, refresh, close), bar, progress);
        VBox.setVgrow(status, javafx.scene.layout.Priority.ALWAYS);
        root.setPadding(new Insets(12));
        setScene(new Scene(root, 720, 520));
        vm.refresh();
    }
}
