package dev.sd3studio.app.studio.view;

import dev.sd3studio.app.studio.vm.PromptViewModel;
import dev.sd3studio.app.studio.vm.TokenInfo;
import javafx.collections.ListChangeListener;
import javafx.geometry.Insets;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.MenuButton;
import javafx.scene.control.MenuItem;
import javafx.scene.control.TextArea;
import javafx.scene.control.TitledPane;
import javafx.scene.layout.FlowPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import javafx.scene.text.Text;
import javafx.scene.text.TextFlow;

/** Prompt, negative prompt, per-encoder prompts, token counts with the cut part, undo/redo, history. */
final class PromptView extends VBox {
    private TextArea focused;

    PromptView(PromptViewModel vm) {
        super(6);
        TextArea prompt = area(vm.promptProperty(), "prompt", "Prompt: what the picture shows. Ctrl+Enter generates.", 4);
        TextArea negative = area(vm.negativeProperty(), "negative", "Negative prompt: what to steer away from.", 2);
        TextArea prompt2 = area(vm.prompt2Property(), "prompt2", "Prompt for the second encoder (CLIP-G); empty uses the prompt.", 2);
        TextArea prompt3 = area(vm.prompt3Property(), "prompt3", "Prompt for the third encoder (T5); empty uses the prompt.", 2);
        TextArea negative2 = area(vm.negative2Property(), "negative2", "Negative prompt for CLIP-G; empty uses the negative prompt.", 1);
        TextArea negative3 = area(vm.negative3Property(), "negative3", "Negative prompt for T5; empty uses the negative prompt.", 1);
        focused = prompt;

        TitledPane perEncoder = new TitledPane("Encoder prompts",
                new VBox(4, Controls.label("CLIP-G prompt", prompt2), prompt2, Controls.label("T5 prompt", prompt3), prompt3,
                        Controls.label("CLIP-G negative", negative2), negative2, Controls.label("T5 negative", negative3), negative3));
        perEncoder.setId("perEncoder");
        perEncoder.setMinWidth(0); // its title would otherwise set the whole editor column's narrowest width
        perEncoder.expandedProperty().bindBidirectional(vm.perEncoderProperty());
        perEncoder.setAccessibleText("Separate prompts for the second and third text encoders");

        FlowPane counts = new FlowPane(8, 4);
        counts.setId("tokenCounts");
        TextFlow cut = new TextFlow();
        cut.setId("tokenCut");
        vm.tokens().addListener((ListChangeListener<TokenInfo>) c -> showTokens(vm, counts, cut));

        Button undo = Controls.describe(new Button("Undo"), "undo", "Undo the last edit in the focused prompt (Ctrl+Z)");
        undo.setOnAction(e -> focused.undo());
        Button redo = Controls.describe(new Button("Redo"), "redo", "Redo (Ctrl+Y or Ctrl+Shift+Z)");
        redo.setOnAction(e -> focused.redo());
        MenuButton history = new MenuButton("History");
        history.setId("history");
        history.setTooltip(new javafx.scene.control.Tooltip("Prompts you generated with, newest first"));
        history.setAccessibleText("Prompt history");
        Runnable fill = () -> {
            history.getItems().setAll(vm.history().stream().map(h -> {
                MenuItem item = new MenuItem(h.length() > 60 ? h.substring(0, 60) + "…" : h);
                item.setOnAction(e -> vm.promptProperty().set(h));
                return item;
            }).toList());
            history.setDisable(vm.history().isEmpty());
        };
        vm.history().addListener((ListChangeListener<String>) c -> fill.run());
        fill.run();
        for (TextArea a : new TextArea[] {prompt, negative, prompt2, prompt3, negative2, negative3}) {
            a.focusedProperty().addListener((o, was, is) -> {
                if (is) {
                    focused = a;
                }
            });
        }
        // what the model understands: examples, a random one, and the first example as the placeholder
        MenuButton examples = new MenuButton("Examples");
        examples.setId("examples");
        examples.setTooltip(new javafx.scene.control.Tooltip("Prompts this model was made for"));
        examples.setAccessibleText("Example prompts for this model");
        Button random = Controls.describe(new Button("Random"), "randomExample", "A random prompt this model understands");
        random.setAccessibleText("Random example prompt");
        random.setOnAction(e -> vm.randomExample());
        Runnable fillExamples = () -> {
            var h = vm.hintsProperty().get();
            examples.getItems().setAll(h.examples().stream().map(x -> {
                MenuItem item = new MenuItem(x);
                item.setOnAction(e -> vm.promptProperty().set(x));
                return item;
            }).toList());
            examples.setVisible(!h.examples().isEmpty());
            examples.setManaged(examples.isVisible());
            random.setVisible(!h.examples().isEmpty() || !h.template().isBlank());
            random.setManaged(random.isVisible());
            prompt.setPromptText(h.examples().isEmpty() ? "Describe the picture…" : "e.g. " + h.examples().getFirst());
        };
        vm.hintsProperty().addListener((o, a, b) -> fillExamples.run());
        fillExamples.run();
        Label hint = Controls.help("");
        hint.setId("promptHint");
        hint.textProperty().bind(vm.hintProperty());
        hint.visibleProperty().bind(vm.hintProperty().isNotEmpty());
        hint.managedProperty().bind(hint.visibleProperty());
        hint.setStyle("-fx-text-fill: -color-warning-fg;");
        // the buttons wrap under each other in a narrow column instead of eliding the label or "History"
        FlowPane edits = new FlowPane(6, 6, undo, redo, history);
        edits.setAlignment(javafx.geometry.Pos.CENTER_RIGHT);
        edits.setMinWidth(0);
        HBox.setHgrow(edits, Priority.ALWAYS);
        Label promptLabel = Controls.label("Prompt", prompt);
        promptLabel.setMinWidth(Region.USE_PREF_SIZE);
        history.setMinWidth(Region.USE_PREF_SIZE);
        HBox tools = new HBox(6, promptLabel, edits);
        HBox help = new HBox(6, examples, random);
        help.managedProperty().bind(examples.managedProperty().or(random.managedProperty()));
        tools.setAlignment(javafx.geometry.Pos.CENTER_LEFT);
        getChildren().addAll(tools, prompt, help, hint, counts, cut, Controls.label("Negative prompt", negative), negative, perEncoder);
        setPadding(new Insets(0, 0, 8, 0));
    }

    private static TextArea area(javafx.beans.property.StringProperty p, String id, String tip, int rows) {
        TextArea a = Controls.describe(new TextArea(), id, tip);
        a.setWrapText(true);
        a.setPrefRowCount(rows);
        a.textProperty().bindBidirectional(p);
        a.setTooltip(null); // labelled and described already; a tooltip would pop up on every click and hide the counts
        return a;
    }

    /** One chip per encoder; below, the first truncated prompt with the cut part struck through. */
    private static void showTokens(PromptViewModel vm, FlowPane counts, TextFlow cut) {
        counts.getChildren().setAll(vm.tokens().stream().map(t -> {
            Label l = new Label(t.label() + (t.truncated() ? " — cut" : ""));
            l.setId("tokens-" + t.encoder());
            l.getStyleClass().add(t.truncated() ? "danger" : "text-muted");
            l.setTooltip(new javafx.scene.control.Tooltip(t.encoder() + " reads at most " + t.limit() + " tokens"
                    + (t.truncated() ? "; the struck-through text below is ignored by it." : ".")));
            l.setAccessibleText(t.label() + (t.truncated() ? ", truncated" : ""));
            return l;
        }).toList());
        cut.getChildren().clear();
        vm.tokens().stream().filter(TokenInfo::truncated).findFirst().ifPresent(t -> {
            Text kept = new Text(tail(t.kept()));
            kept.getStyleClass().add("text");
            Text dropped = new Text(t.cut());
            dropped.setId("cutText");
            dropped.setStrikethrough(true);
            dropped.setStyle("-fx-fill: -color-danger-fg;");
            cut.getChildren().addAll(new Text(t.encoder() + " cuts: …"), kept, dropped);
        });
    }

    private static String tail(String s) {
        return s.length() > 30 ? s.substring(s.length() - 30) : s;
    }
}
