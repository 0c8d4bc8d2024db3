package dev.sd3studio.app.studio.view;

import javafx.beans.property.DoubleProperty;
import javafx.beans.property.IntegerProperty;
import javafx.beans.property.ObjectProperty;
import javafx.collections.ObservableMap;
import javafx.css.PseudoClass;
import javafx.scene.control.Spinner;
import javafx.scene.control.SpinnerValueFactory;
import javafx.scene.input.KeyEvent;
import javafx.scene.input.ScrollEvent;
import javafx.util.StringConverter;

import java.math.BigDecimal;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Number spinners that keep what is typed. The text becomes the value only as a whole, on Enter, Tab
 * or focus loss (and Ctrl+Enter), never after a pause: a timer that takes "2" while "25" is being typed
 * resets the caret and gives 52. Text that is not a number in range is never clamped or replaced: it
 * stays as typed, the field is marked ({@code :danger}), its tooltip says the rule, and the problem is
 * listed in {@code problems} so Generate refuses rather than use a number the screen does not show.
 * Esc brings back the value. The mouse wheel steps a field only with Ctrl held; without it the wheel
 * scrolls the panel the field sits in.
 */
final class NumberFields {
    /** Appended to each number field's tooltip. */
    static final String HOW = "\nType a number and press Enter or Tab; ↑/↓ or Ctrl+wheel step it.";
    private static final PseudoClass DANGER = PseudoClass.getPseudoClass("danger");
    private static final Pattern WHOLE = Pattern.compile("[+-]?\\d{1,9}");
    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d{1,9}([.,]\\d*)?|[.,]\\d+)");

    private NumberFields() {
    }

    /** @param name the field's label, as the user reads it ("Steps"), used in its problem */
    static Spinner<Integer> whole(String name, IntegerProperty p, int min, int max, int step,
                                  ObservableMap<String, String> problems) {
        var factory = new SpinnerValueFactory.IntegerSpinnerValueFactory(min, max, p.get(), step);
        return field(factory, p.asObject(), Rule.of(name + " must be a whole number from " + min + " to " + max,
                t -> WHOLE.matcher(t).matches() ? Integer.valueOf(t) : null, v -> v >= min && v <= max,
                v -> Integer.toString(v)), problems);
    }

    static Spinner<Double> decimal(String name, DoubleProperty p, double min, double max, double step,
                                   ObservableMap<String, String> problems) {
        var factory = new SpinnerValueFactory.DoubleSpinnerValueFactory(min, max, p.get(), step);
        return field(factory, p.asObject(), Rule.of(name + " must be a number from " + plain(min) + " to " + plain(max),
                t -> DECIMAL.matcher(t).matches() ? Double.valueOf(t.replace(',', '.')) : null,
                v -> v >= min && v <= max, NumberFields::plain), problems);
    }

    /** "7", "4.5": no locale, no trailing zeros, the way it is typed (and written on the command line). */
    private static String plain(double v) {
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    /** What a field accepts: a parser (null when the text is not a number), a range and a format. */
    private record Rule<T>(String rule, Function<String, T> parse, java.util.function.Predicate<T> inRange,
                           Function<T, String> format) {
        static <T> Rule<T> of(String rule, Function<String, T> parse, java.util.function.Predicate<T> inRange,
                              Function<T, String> format) {
            return new Rule<>(rule, parse, inRange, format);
        }

        /** The value the text stands for, or null when it is not a number in range. */
        T valid(String text) {
            T v = text == null ? null : parse.apply(text.strip());
            return v != null && inRange.test(v) ? v : null;
        }

        String problem(String text) {
            return rule + "; \"" + text.strip() + "\" is not one";
        }
    }

    private static <T> Spinner<T> field(SpinnerValueFactory<T> factory, ObjectProperty<T> boxed, Rule<T> rule,
                                        ObservableMap<String, String> problems) {
        Spinner<T> s = new Spinner<>(factory);
        s.getProperties().put("binding", boxed); // keeps the bidirectional binding's partner reachable
        factory.valueProperty().bindBidirectional(boxed);
        // the Spinner commits on its own too (focus loss, its arrow buttons): text that is not valid
        // converts to the current value there, so those commits change nothing and clamp nothing
        factory.setConverter(new StringConverter<>() {
            @Override
            public String toString(T v) {
                return v == null ? "" : rule.format().apply(v);
            }

            @Override
            public T fromString(String text) {
                T v = rule.valid(text);
                return v != null ? v : s.getValue();
            }
        });
        s.setEditable(true);
        s.setMaxWidth(Double.MAX_VALUE);
        s.getEditor().setText(factory.getConverter().toString(s.getValue()));
        new Checked<>(s, rule, problems).install();
        return s;
    }

    /** One field's commit, revert and marking. */
    private static final class Checked<T> {
        private final Spinner<T> s;
        private final Rule<T> rule;
        private final ObservableMap<String, String> problems;
        private String ownTooltip;

        Checked(Spinner<T> s, Rule<T> rule, ObservableMap<String, String> problems) {
            this.s = s;
            this.rule = rule;
            this.problems = problems;
        }

        void install() {
            var editor = s.getEditor();
            s.getProperties().put(Controls.COMMIT, (Runnable) this::commit);
            editor.focusedProperty().addListener((o, was, is) -> {
                if (!is) {
                    commit();
                }
            });
            // a marked field loses its mark as soon as its text is valid again (typed, stepped or loaded)
            editor.textProperty().addListener((o, a, t) -> {
                if (marked() && rule.valid(t) != null) {
                    unmark();
                }
            });
            // a field that cannot be edited must not block Generate with text nobody can correct
            s.disabledProperty().addListener((o, a, disabled) -> {
                if (disabled && marked()) {
                    revert();
                }
            });
            // on the spinner, not its editor: the spinner is what holds the focus, and it passes Esc
            // and the arrow keys to no editor
            s.addEventFilter(KeyEvent.KEY_PRESSED, e -> {
                switch (e.getCode()) {
                    case ENTER -> {
                        commit();
                        e.consume();
                    }
                    case ESCAPE -> {
                        if (marked() || !editor.getText().equals(shown())) {
                            revert();
                            e.consume();
                        }
                    }
                    case UP, DOWN -> {
                        commit();
                        step(e.getCode() == javafx.scene.input.KeyCode.UP ? 1 : -1);
                        e.consume();
                    }
                    default -> { }
                }
            });
            s.addEventFilter(ScrollEvent.SCROLL, e -> {
                if (!e.isShortcutDown() || e.getDeltaY() == 0) {
                    return; // left to the scroll pane around the field
                }
                commit();
                step(e.getDeltaY() > 0 ? 1 : -1);
                e.consume();
            });
        }

        private String shown() {
            return s.getValueFactory().getConverter().toString(s.getValue());
        }

        /** Takes the whole text when it is valid; otherwise leaves it as typed and marks the field. */
        void commit() {
            String text = s.getEditor().getText();
            T v = rule.valid(text);
            if (v == null) {
                mark(rule.problem(text == null ? "" : text));
                return;
            }
            if (!v.equals(s.getValue())) {
                s.getValueFactory().setValue(v);
            }
            s.getEditor().setText(shown()); // "025" reads "25"
            unmark();
        }

        private void step(int direction) {
            if (direction > 0) {
                s.increment();
            } else {
                s.decrement();
            }
        }

        private void revert() {
            s.getEditor().setText(shown());
            unmark();
        }

        private boolean marked() {
            return s.getPseudoClassStates().contains(DANGER);
        }

        private void mark(String problem) {
            if (!marked() && s.getTooltip() != null) {
                ownTooltip = s.getTooltip().getText();
            }
            s.pseudoClassStateChanged(DANGER, true);
            s.getEditor().pseudoClassStateChanged(DANGER, true);
            if (s.getTooltip() != null) {
                s.getTooltip().setText(problem + ". Esc brings back " + shown() + "."
                        + (ownTooltip == null ? "" : "\n\n" + ownTooltip));
            }
            problems.put(rule.rule(), problem);
        }

        private void unmark() {
            if (!marked()) {
                return;
            }
            s.pseudoClassStateChanged(DANGER, false);
            s.getEditor().pseudoClassStateChanged(DANGER, false);
            if (s.getTooltip() != null && ownTooltip != null) {
                s.getTooltip().setText(ownTooltip);
            }
            problems.remove(rule.rule());
        }
    }
}
