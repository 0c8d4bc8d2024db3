package dev.sd3studio.app.studio.view;

import javafx.scene.Node;
import javafx.scene.control.Control;
import javafx.scene.control.Label;
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
        l.setMinWidth(Region.USE_PREF_SIZE); // never "F…": a narrow column gives way in its fields instead
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

    /** The property key under which a number field keeps its commit action ({@link NumberFields}). */
    static final String COMMIT = "sd3studio.commit";

    /** Takes what is typed in the focused number field now (Ctrl+Enter must not generate with the old value). */
    static void commitFocused(javafx.scene.Scene scene) {
        for (Node n = scene.getFocusOwner(); n != null; n = n.getParent()) {
            if (n.getProperties().get(COMMIT) instanceof Runnable commit) {
                commit.run();
                return;
            }
        }
    }
}
