package dev.sd3studio.app.studio.view;

import dev.sd3studio.app.studio.vm.LoraListViewModel;
import dev.sd3studio.app.studio.vm.LoraListViewModel.Item;
import javafx.geometry.Pos;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.ListCell;
import javafx.scene.control.ListView;
import javafx.scene.control.Slider;
import javafx.scene.control.TextArea;
import javafx.scene.control.TitledPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.VBox;
import javafx.stage.FileChooser;

import java.io.File;
import java.util.List;
import java.util.Locale;

/**
 * The selected model's LoRAs: one row per file with a scale slider and a remove button, "Add…" (or drop
 * a {@code .safetensors} onto the canvas), and "Details" showing which keys changed which layers.
 */
final class LoraPanel extends TitledPane {
    LoraPanel(LoraListViewModel vm) {
        ListView<Item> list = new ListView<>(vm.items());
        list.setId("loraList");
        list.setPrefHeight(110);
        list.setCellFactory(v -> new LoraCell(vm));
        list.setPlaceholder(Controls.help("No LoRAs. Add a .safetensors file or drop one onto the canvas."));
        Button add = Controls.describe(new Button("Add LoRA…"), "addLora",
                "Add a LoRA (.safetensors, diffusers/peft or SD3 original/kohya keys) to this model");
        add.setOnAction(e -> {
            FileChooser chooser = new FileChooser();
            chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter("LoRA (*.safetensors)", "*.safetensors"));
            List<File> files = chooser.showOpenMultipleDialog(getScene().getWindow());
            if (files != null) {
                vm.add(files.stream().map(File::toPath).toList());
            }
        });
        Button details = Controls.describe(new Button("Details"), "loraDetails",
                "Which keys of each LoRA change which layers, and which match nothing");
        details.setOnAction(e -> vm.showReport());
        details.disableProperty().bind(javafx.beans.binding.Bindings.isEmpty(vm.items()));
        TextArea report = new TextArea();
        report.setId("loraReport");
        report.setEditable(false);
        report.setWrapText(false);
        report.setPrefRowCount(8);
        report.textProperty().bind(vm.reportProperty());
        report.visibleProperty().bind(vm.reportProperty().isNotNull());
        report.managedProperty().bind(report.visibleProperty());
        setText("LoRAs");
        setId("loraPanel");
        setContent(new VBox(6, list, new HBox(6, add, details), report));
        setExpanded(true);
    }

    /** A LoRA no layer of the model matches: warning colour, its slider off, and the reason in words. */
    private static void markForeign(Item item, Label name, Slider scale, Label value, HBox row) {
        row.getStyleClass().add("lora-foreign");
        name.getStyleClass().add(atlantafx.base.theme.Styles.WARNING);
        scale.setDisable(true);
        value.textProperty().unbind();
        value.setText(LoraListViewModel.FOREIGN);
        value.getStyleClass().add(atlantafx.base.theme.Styles.WARNING);
        String why = item.name() + " is " + LoraListViewModel.FOREIGN + ": no layer of this model matches it,"
                + " so generations leave it out. Remove it or choose the model it was made for.";
        name.setTooltip(new javafx.scene.control.Tooltip(why));
        value.setTooltip(new javafx.scene.control.Tooltip(why));
        scale.setManaged(false);
        scale.setVisible(false);
    }

    /** name, slider (−1 … 2), value, remove. */
    private static final class LoraCell extends ListCell<Item> {
        private final LoraListViewModel vm;

        LoraCell(LoraListViewModel vm) {
            this.vm = vm;
            // the list sizes its cells to the wider of their preferred width and its own: asking for none
            // keeps the row inside the list, so the name shortens instead of the remove button going out of view
            setPrefWidth(0);
        }

        @Override
        protected void updateItem(Item item, boolean empty) {
            super.updateItem(item, empty);
            if (empty || item == null) {
                setGraphic(null);
                setText(null);
                return;
            }
            Label name = new Label(item.name());
            name.setMaxWidth(140);
            name.setMinWidth(0);
            name.setTooltip(new javafx.scene.control.Tooltip(item.file().toString())); // the whole path when the name is shortened
            // the check runs after the row is first drawn: redraw once its verdict is in
            item.foreignProperty().addListener(new javafx.beans.value.ChangeListener<>() {
                @Override
                public void changed(javafx.beans.value.ObservableValue<? extends Boolean> o, Boolean was, Boolean now) {
                    o.removeListener(this);
                    if (getItem() == item) {
                        updateItem(item, false);
                    }
                }
            });
            Slider scale = new Slider(-1, 2, item.scaleProperty().get());
            scale.setBlockIncrement(0.05);
            scale.valueProperty().bindBidirectional(item.scaleProperty());
            Controls.describe(scale, "loraScale", "Strength of " + item.name() + " (1 = as trained, 0 = off)");
            HBox.setHgrow(scale, Priority.ALWAYS);
            scale.setMinWidth(40);
            Label value = new Label();
            value.setMinWidth(javafx.scene.layout.Region.USE_PREF_SIZE);
            value.textProperty().bind(item.scaleProperty().asString(Locale.ROOT, "%.2f"));
            Button remove = Controls.describe(new Button("✕"), "removeLora", "Remove " + item.name());
            remove.setOnAction(e -> vm.remove(item));
            HBox row = new HBox(6, name, scale, value, remove);
            row.setAlignment(Pos.CENTER_LEFT);
            if (item.isForeign()) {
                markForeign(item, name, scale, value, row);
            }
            setText(null);
            setGraphic(row);
        }
    }
}
