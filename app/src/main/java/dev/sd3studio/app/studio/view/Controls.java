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

    static Spinner<Integer> intSpinner(IntegerProperty p, int min, int max, int step) {
        Spinner<Integer> s = new Spinner<>(new SpinnerValueFactory.IntegerSpinnerValueFactory(min, max, p.get(), step));
        ObjectProperty<Integer> boxed = p.asObject();
        s.getProperties().put("binding", boxed); // keeps the bidirectional binding's partner reachable
        s.getValueFactory().valueProperty().bindBidirectional(boxed);
        commitWhileTyping(s);
        return s;
    }

    static Spinner<Double> doubleSpinner(DoubleProperty p, double min, double max, double step) {
        Spinner<Double> s = new Spinner<>(new SpinnerValueFactory.DoubleSpinnerValueFactory(min, max, p.get(), step));
        ObjectProperty<Double> boxed = p.asObject();
        s.getProperties().put("binding", boxed);
        s.getValueFactory().valueProperty().bindBidirectional(boxed);
        commitWhileTyping(s);
        return s;
    }

    /** Spinners only commit typed text on Enter or focus loss; commit as soon as it parses. */
    private static <T> void commitWhileTyping(Spinner<T> s) {
        s.setEditable(true);
        s.getEditor().textProperty().addListener((o, a, text) -> {
            try {
                T v = s.getValueFactory().getConverter().fromString(text);
                if (v != null && !v.equals(s.getValue())) {
                    s.getValueFactory().setValue(v);
                }
            } catch (RuntimeException ignored) {
                // half-typed number: wait for more
            }
        });
        s.setMaxWidth(Double.MAX_VALUE);
    }
}
