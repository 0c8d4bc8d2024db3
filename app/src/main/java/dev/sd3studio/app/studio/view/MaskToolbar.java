package dev.sd3studio.app.studio.view;

import dev.sd3studio.app.studio.vm.MaskEditorViewModel;
import dev.sd3studio.app.studio.vm.MaskEditorViewModel.Tool;
import javafx.beans.binding.Bindings;
import javafx.geometry.Pos;
import javafx.scene.control.Button;
import javafx.scene.control.CheckBox;
import javafx.scene.control.Label;
import javafx.scene.control.Slider;
import javafx.scene.control.ToggleButton;
import javafx.scene.control.ToggleGroup;
import javafx.scene.layout.FlowPane;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import javafx.stage.FileChooser;

import java.io.File;

/**
 * Inpainting tools under the start image: paint mask on/off, brush/eraser, size, clear, invert, undo, load, keep.
 * The toggle's row never changes; the tools take a row of their own below it whose room is kept while they
 * are hidden, so pressing the toggle moves nothing (not the toggle, not the canvas) and never puts another
 * button under the pointer.
 */
final class MaskToolbar extends VBox {
    MaskToolbar(MaskEditorViewModel mask) {
        super(4);
        setId("maskToolbar");

        ToggleButton edit = Controls.describe(new ToggleButton("Paint mask"), "maskEdit",
                "Inpainting: paint over the start image where it should be repainted; the rest stays as it is");
        edit.selectedProperty().bindBidirectional(mask.editingProperty());

        ToggleGroup tools = new ToggleGroup();
        ToggleButton brush = Controls.describe(new ToggleButton("Brush"), "maskBrush", "Paint the area to repaint");
        ToggleButton eraser = Controls.describe(new ToggleButton("Eraser"), "maskEraser", "Take areas out of the mask");
        brush.setToggleGroup(tools);
        eraser.setToggleGroup(tools);
        brush.setSelected(mask.toolProperty().get() == Tool.BRUSH);
        eraser.setSelected(mask.toolProperty().get() == Tool.ERASER);
        tools.selectedToggleProperty().addListener((o, a, t) -> {
            if (t == null) {
                a.setSelected(true); // one of the two is always on
            } else {
                mask.toolProperty().set(t == brush ? Tool.BRUSH : Tool.ERASER);
            }
        });
        mask.toolProperty().addListener((o, a, t) -> (t == Tool.BRUSH ? brush : eraser).setSelected(true));

        Slider size = Controls.describe(new Slider(2, 512, mask.brushSizeProperty().get()), "maskBrushSize",
                "Brush size in pixels of the start image");
        size.maxProperty().bind(mask.maxBrushSizeProperty());
        size.valueProperty().bindBidirectional(mask.brushSizeProperty());
        size.setPrefWidth(110);
        Label sizeValue = new Label();
        sizeValue.textProperty().bind(Bindings.format("%.0f px", mask.brushSizeProperty()));

        Button clear = Controls.describe(new Button("Clear"), "maskClear", "Remove the whole mask");
        clear.setOnAction(e -> mask.clear());
        Button invert = Controls.describe(new Button("Invert"), "maskInvert",
                "Repaint everything except what is painted now");
        invert.setOnAction(e -> mask.invert());
        Button undo = Controls.describe(new Button("Undo"), "maskUndo", "Undo the last stroke, clear or invert (Ctrl+Z)");
        undo.disableProperty().bind(mask.canUndoProperty().not());
        undo.setOnAction(e -> mask.undo());
        Button load = Controls.describe(new Button("Load mask…"), "maskLoad",
                "Use a black-and-white picture as the mask (white = repaint); you can also drop one on the canvas");
        load.setOnAction(e -> {
            FileChooser chooser = new FileChooser();
            chooser.setTitle("Mask picture (white = repaint)");
            File f = chooser.showOpenDialog(getScene() == null ? null : getScene().getWindow());
            if (f != null) {
                mask.loadFile(f.toPath());
            }
        });
        CheckBox keep = Controls.describe(new CheckBox("Keep original outside mask"), "maskKeep",
                "After decoding, paste the start image's own pixels back outside the mask, so untouched areas stay"
                        + " exactly untouched (the reference pipeline does not)");
        keep.selectedProperty().bindBidirectional(mask.keepUnmaskedProperty());
        Label coverage = new Label();
        coverage.setId("maskCoverage");
        coverage.getStyleClass().add("text-muted");
        coverage.textProperty().bind(Bindings.createStringBinding(() -> mask.coverageProperty().get() == 0
                ? "No mask: the whole picture is image-to-image"
                : String.format("Repaints %.0f %% of the picture", 100 * mask.coverageProperty().get()),
                mask.coverageProperty()));

        // a line of its own that wraps: in a flow row its full length would set the narrowest the column can be
        coverage.setWrapText(true);
        coverage.setMinHeight(Region.USE_PREF_SIZE); // two lines in a narrow column, never "…"
        FlowPane toggleRow = new FlowPane(6, 4, edit, keep);
        toggleRow.setAlignment(Pos.CENTER_LEFT);
        FlowPane toolRow = new FlowPane(6, 4, brush, eraser, Controls.label("Size", size), size, sizeValue, clear, invert,
                undo, load);
        toolRow.setId("maskTools");
        toolRow.setAlignment(Pos.CENTER_LEFT);
        toolRow.visibleProperty().bind(mask.editingProperty()); // hidden, but its room stays: see the class comment
        getChildren().addAll(toggleRow, coverage, toolRow);
    }
}
