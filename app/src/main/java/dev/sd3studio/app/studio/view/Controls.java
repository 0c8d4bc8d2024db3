package dev.sd3studio.app.studio.view;

import javafx.beans.property.DoubleProperty;
import javafx.beans.property.IntegerProperty;
import javafx.beans.property.ObjectProperty;
import javafx.scene.Node;
import javafx.scene.control.Control;
import javafx.scene.control.Label;
import javafx.scene.control.Spinner;
import javafx.scene.control.SpinnerValueFactory;
import javafx.scene.control.Tooltip;
import javafx.scene.layout.Region;
import javafx.util.Duration;

/** Small factories so every control gets an id, a tooltip and an accessible label the same way. */
final class Controls {
    private Controls() {
    }

    static <T extends Control> T describe(T c, String id, String tooltip) {
        c.setId(id);
        Tooltip t = new Tooltip(tooltip);
        t.setShowDelay(Duration.millis(400));
        t.setWrapText(true);
        t.setMaxWidth(360);
        c.setTooltip(t);
        if (c instanceof javafx.scene.control.ButtonBase) {
            c.setMinWidth(Region.USE_PREF_SIZE); // never "Gen…": labels stay whole, layouts wrap instead
        }
        if (c.getAccessibleText() == null) {
            c.setAccessibleText(tooltip);
        }
        return c;
    }

    static Label label(String text, Node labelFor) {
        Label l = new Label(text);
        l.setLabelFor(labelFor);
        l.setMnemonicParsing(false);
        return l;
    }

    static Label help(String text) {
        Label l = new Label(text);
        l.setWrapText(true);
        l.getStyleClass().addAll("text-muted", "text-small");
        return l;
    }

    private static final String COMMIT = "sd3studio.commit";

    /** Takes what is typed in the focused number field now (Ctrl+Enter must not generate with the old value). */
    static void commitFocused(javafx.scene.Scene scene) {
        for (Node n = scene.getFocusOwner(); n != null; n = n.getParent()) {
            if (n.getProperties().get(COMMIT) instanceof Runnable commit) {
                commit.run();
                return;
            }
        }
    }

    /** Pause in typing after which a number that is already within range is taken. */
    static final Duration COMMIT_PAUSE = Duration.millis(900);

    static Spinner<Integer> intSpinner(IntegerProperty p, int min, int max, int step) {
        Spinner<Integer> s = new Spinner<>(new SpinnerValueFactory.IntegerSpinnerValueFactory(min, max, p.get(), step));
        ObjectProperty<Integer> boxed = p.asObject();
        s.getProperties().put("binding", boxed); // keeps the bidirectional binding's partner reachable
        s.getValueFactory().valueProperty().bindBidirectional(boxed);
        commitWholeValues(s, v -> v >= min && v <= max, v -> Math.clamp(v, min, max));
        return s;
    }

    static Spinner<Double> doubleSpinner(DoubleProperty p, double min, double max, double step) {
        Spinner<Double> s = new Spinner<>(new SpinnerValueFactory.DoubleSpinnerValueFactory(min, max, p.get(), step));
        ObjectProperty<Double> boxed = p.asObject();
        s.getProperties().put("binding", boxed);
        s.getValueFactory().valueProperty().bindBidirectional(boxed);
        commitWholeValues(s, v -> v >= min && v <= max, v -> Math.clamp(v, min, max));
        return s;
    }

    /**
     * Typed text becomes the value as a whole, never keystroke by keystroke (typing 128 must not pass
     * through a clamped 1): on Enter or focus loss, clamped into range; after a short pause only if it
     * is already in range. Text that is not a number goes back to the current value. Arrow keys and
     * the mouse wheel step the value, starting from what was typed.
     */
    private static <T extends Comparable<T>> void commitWholeValues(Spinner<T> s, java.util.function.Predicate<T> inRange,
                                                                   java.util.function.UnaryOperator<T> clamp) {
        s.setEditable(true);
        s.setMaxWidth(Double.MAX_VALUE);
        var editor = s.getEditor();
        javafx.animation.PauseTransition pause = new javafx.animation.PauseTransition(COMMIT_PAUSE);
        pause.setOnFinished(e -> commit(s, false, inRange, clamp));
        s.getProperties().put(COMMIT, (Runnable) () -> {
            pause.stop();
            commit(s, true, inRange, clamp);
        });
        editor.textProperty().addListener((o, a, t) -> {
            if (editor.isFocused()) {
                pause.playFromStart();
            }
        });
        editor.focusedProperty().addListener((o, was, is) -> {
            if (!is) {
                pause.stop();
                commit(s, true, inRange, clamp);
            }
        });
        editor.addEventFilter(javafx.scene.input.KeyEvent.KEY_PRESSED, e -> {
            switch (e.getCode()) {
                case ENTER -> {
                    pause.stop();
                    commit(s, true, inRange, clamp);
                    e.consume();
                }
                case UP, DOWN -> {
                    pause.stop();
                    commit(s, true, inRange, clamp);
                    if (e.getCode() == javafx.scene.input.KeyCode.UP) {
                        s.increment();
                    } else {
                        s.decrement();
                    }
                    e.consume();
                }
                default -> { }
            }
        });
        s.setOnScroll(e -> {
            if (e.getDeltaY() == 0) {
                return;
            }
            commit(s, true, inRange, clamp);
            if (e.getDeltaY() > 0) {
                s.increment();
            } else {
                s.decrement();
            }
            e.consume();
        });
    }

    private static <T> void commit(Spinner<T> s, boolean force, java.util.function.Predicate<T> inRange,
                                   java.util.function.UnaryOperator<T> clamp) {
        var converter = s.getValueFactory().getConverter();
        String text = s.getEditor().getText();
        T typed;
        try {
            typed = text == null || text.isBlank() ? null : converter.fromString(text.strip());
        } catch (RuntimeException e) {
            typed = null;
        }
        if (typed == null) {
            if (force) {
                s.getEditor().setText(converter.toString(s.getValue())); // not a number: back to the value
            }
            return;
        }
        if (!force && !inRange.test(typed)) {
            return; // still typing, probably: "1" on the way to "128"
        }
        T v = clamp.apply(typed);
        if (!v.equals(s.getValue())) {
            s.getValueFactory().setValue(v);
        }
        if (force) {
            s.getEditor().setText(converter.toString(s.getValue()));
        }
    }
}
