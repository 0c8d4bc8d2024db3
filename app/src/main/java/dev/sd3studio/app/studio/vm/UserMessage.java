package dev.sd3studio.app.studio.vm;

/** A message for the banner: what happened and what to do, plus details for "copy details". */
public record UserMessage(Severity severity, String text, String details) {
    public enum Severity { INFO, WARNING, ERROR }

    public static UserMessage info(String text) {
        return new UserMessage(Severity.INFO, text, "");
    }

    public static UserMessage warning(String text) {
        return new UserMessage(Severity.WARNING, text, "");
    }
}
