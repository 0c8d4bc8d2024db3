package dev.sd3studio.app.studio.view;

import atlantafx.base.theme.PrimerDark;
import atlantafx.base.theme.PrimerLight;
import javafx.application.Application;
import javafx.application.ColorScheme;
import javafx.application.Platform;
import javafx.beans.property.StringProperty;

/** Applies PrimerLight/PrimerDark: "system" follows the platform's colour scheme as it changes. */
final class Theme {
    private Theme() {
    }

    static void follow(StringProperty choice) {
        Runnable apply = () -> apply(choice.get());
        choice.addListener((o, a, b) -> apply.run());
        Platform.getPreferences().colorSchemeProperty().addListener((o, a, b) -> apply.run());
        apply.run();
    }

    static void apply(String choice) {
        boolean dark = switch (choice == null ? "system" : choice) {
            case "dark" -> true;
            case "light" -> false;
            default -> Platform.getPreferences().getColorScheme() == ColorScheme.DARK;
        };
        Application.setUserAgentStylesheet(dark ? new PrimerDark().getUserAgentStylesheet()
                : new PrimerLight().getUserAgentStylesheet());
    }
}
