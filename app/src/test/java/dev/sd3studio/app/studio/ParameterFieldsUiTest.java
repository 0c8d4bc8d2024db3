package dev.sd3studio.app.studio;

import dev.sd3studio.app.studio.vm.StudioViewModel;
import javafx.css.PseudoClass;
import javafx.geometry.VerticalDirection;
import javafx.scene.control.ScrollPane;
import javafx.scene.control.Spinner;
import javafx.scene.control.TextField;
import javafx.scene.input.KeyCode;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The number fields under a person's hands, headless: pauses while typing, text that is not a valid
 * number, and the mouse wheel over the parameter panel.
 */
@ExtendWith(ApplicationExtension.class)
class ParameterFieldsUiTest {
    private static final PseudoClass DANGER = PseudoClass.getPseudoClass("danger");
    /** Longer than any "the user stopped typing" timer a field might run (the old one was 0.9 s). */
    private static final long PAUSE_MILLIS = 1200;

    @TempDir
    static Path tmp;
    private final FakeFactory engine = new FakeFactory();
    private Stage stage;
    private StudioViewModel vm;
    private FakeStudio studio;

    @Start
    void start(Stage stage) throws Exception {
        studio = FakeStudio.show(stage, tmp, engine);
        this.stage = stage;
        vm = studio.vm;
    }

    @AfterEach
    void tearDown(FxRobot robot) {
        studio.close(robot);
    }

    private static void await(Callable<Boolean> condition) throws Exception {
        FakeStudio.await(condition);
    }

    /** The model opens in the background and applies its defaults: typing must come after that. */
    private void awaitModel() throws Exception {
        await(() -> vm.parameters().modelProperty().get() != null
                && !vm.models().noteProperty().get().startsWith("Loading"));
    }

    private static Spinner<?> spinner(FxRobot robot, String id) {
        return robot.lookup(id).queryAs(Spinner.class);
    }

    private static TextField editor(FxRobot robot, String id) {
        return spinner(robot, id).getEditor();
    }

    /** Focuses the field, selects what it holds and types the pieces with a real pause between them. */
    private static void typeWithPauses(FxRobot robot, String id, String... pieces) throws InterruptedException {
        TextField editor = editor(robot, id);
        robot.interact(editor::requestFocus); // may be below the editor's fold; typing goes to the focus
        robot.press(KeyCode.CONTROL, KeyCode.A).release(KeyCode.A, KeyCode.CONTROL);
        for (int i = 0; i < pieces.length; i++) {
            if (i > 0) {
                Thread.sleep(PAUSE_MILLIS);
                WaitForAsyncUtils.waitForFxEvents();
            }
            robot.write(pieces[i]);
        }
    }

    private static void press(FxRobot robot, KeyCode key) {
        robot.press(key).release(key);
        WaitForAsyncUtils.waitForFxEvents();
    }

    @Test
    void aPauseWhileTypingKeepsEveryDigitWhereItWasTyped(FxRobot robot) throws Exception {
        awaitModel();
        typeWithPauses(robot, "#steps", "2", "5");
        assertEquals("25", editor(robot, "#steps").getText(), "the pause took nothing and moved no caret");
        press(robot, KeyCode.TAB);
        assertEquals(25, vm.parameters().stepsProperty().get());
        assertEquals("25", editor(robot, "#steps").getText());

        typeWithPauses(robot, "#guidance", "4", ".5");
        press(robot, KeyCode.TAB);
        assertEquals(4.5, vm.parameters().guidanceProperty().get(), 1e-9);
        assertEquals("4.5", editor(robot, "#guidance").getText());

        typeWithPauses(robot, "#width", "1", "28");
        press(robot, KeyCode.ENTER);
        assertEquals(128, vm.parameters().widthProperty().get());
        assertEquals("128", editor(robot, "#width").getText());

        typeWithPauses(robot, "#height", "1", "92");
        assertEquals(64, vm.parameters().heightProperty().get(), "nothing is taken before Enter, Tab or focus loss");
        press(robot, KeyCode.UP);
        assertEquals(208, vm.parameters().heightProperty().get(), "the arrow keys step from what was typed");
    }

    @Test
    void textThatIsNotAValidNumberStaysAsTypedMarkedAndGenerateRefusesIt(FxRobot robot) throws Exception {
        awaitModel();
        int steps = vm.parameters().stepsProperty().get();
        typeWithPauses(robot, "#steps", "500");
        press(robot, KeyCode.TAB);
        Spinner<?> field = spinner(robot, "#steps");
        assertEquals("500", field.getEditor().getText(), "out of range: shown as typed, not clamped");
        assertEquals(steps, vm.parameters().stepsProperty().get(), "the last valid value stays the value");
        assertTrue(field.getPseudoClassStates().contains(DANGER), "marked as invalid");
        assertTrue(field.getTooltip().getText().startsWith("Steps must be a whole number from 1 to 200"),
                field.getTooltip().getText());

        typeWithPauses(robot, "#guidance", "abc");
        press(robot, KeyCode.ENTER);
        assertEquals("abc", editor(robot, "#guidance").getText(), "not a number: shown as typed");
        assertEquals(7.0, vm.parameters().guidanceProperty().get(), 1e-9);
        assertTrue(spinner(robot, "#guidance").getPseudoClassStates().contains(DANGER));

        robot.interact(() -> vm.prompt().promptProperty().set("a red fox"));
        robot.press(KeyCode.CONTROL, KeyCode.ENTER).release(KeyCode.ENTER, KeyCode.CONTROL);
        WaitForAsyncUtils.waitForFxEvents();
        assertTrue(vm.generation().jobs().isEmpty() && vm.generation().runningProperty().get() == null,
                "nothing is generated with numbers other than the ones on the screen");
        String refusal = vm.messageProperty().get().text();
        assertTrue(refusal.contains("Steps must be a whole number from 1 to 200"), refusal);

        press(robot, KeyCode.ESCAPE); // in the guidance field: back to the value it holds
        assertEquals("7", editor(robot, "#guidance").getText());
        assertFalse(spinner(robot, "#guidance").getPseudoClassStates().contains(DANGER));
        typeWithPauses(robot, "#steps", "30");
        press(robot, KeyCode.TAB);
        assertFalse(field.getPseudoClassStates().contains(DANGER));
        assertFalse(field.getTooltip().getText().startsWith("Steps must"), "the tooltip is the field's own again");
        robot.press(KeyCode.CONTROL, KeyCode.ENTER).release(KeyCode.ENTER, KeyCode.CONTROL);
        await(() -> engine.requests.size() == 1);
        assertEquals(30, engine.requests.getFirst().steps());
        assertEquals(7.0, engine.requests.getFirst().guidance(), 1e-9);
    }

    @Test
    void theWheelOverAFieldScrollsThePanelAndLeavesTheValuesAlone(FxRobot robot) throws Exception {
        awaitModel();
        robot.interact(() -> stage.setHeight(600)); // the panel scrolls at any size; smaller makes it certain
        WaitForAsyncUtils.waitForFxEvents();
        ScrollPane panel = robot.lookup("#editorScroll").queryAs(ScrollPane.class);
        List<String> fields = List.of("#width", "#height", "#steps", "#guidance", "#shift", "#clipSkip", "#imagesPerPrompt");
        List<Object> before = fields.stream().map(id -> (Object) spinner(robot, id).getValue()).toList();
        robot.interact(() -> panel.setVvalue(0.3));
        // the pointer rests on Steps, wherever the panel shows it
        robot.interact(() -> {
            javafx.scene.Node steps = spinner(robot, "#steps");
            var b = steps.localToScene(steps.getBoundsInLocal());
            var viewport = panel.localToScene(panel.getBoundsInLocal());
            panel.setVvalue(panel.getVvalue() + (b.getCenterY() - viewport.getCenterY())
                    / Math.max(1, panel.getContent().getBoundsInLocal().getHeight() - panel.getViewportBounds().getHeight()));
        });
        WaitForAsyncUtils.waitForFxEvents();
        double top = panel.getVvalue();
        robot.moveTo(spinner(robot, "#steps").getEditor());
        robot.scroll(3, VerticalDirection.DOWN);
        WaitForAsyncUtils.waitForFxEvents();
        assertTrue(panel.getVvalue() != top, "the panel scrolled: " + top + " -> " + panel.getVvalue());
        assertEquals(before, fields.stream().map(id -> (Object) spinner(robot, id).getValue()).toList(),
                "no field changed under the wheel");

        // Ctrl+wheel is the deliberate way to step a field with the wheel
        robot.interact(() -> panel.setVvalue(top));
        WaitForAsyncUtils.waitForFxEvents();
        int steps = vm.parameters().stepsProperty().get();
        robot.moveTo(spinner(robot, "#steps").getEditor());
        robot.press(KeyCode.CONTROL);
        robot.scroll(1, VerticalDirection.UP);
        robot.release(KeyCode.CONTROL);
        WaitForAsyncUtils.waitForFxEvents();
        assertEquals(top, panel.getVvalue(), 1e-9, "Ctrl+wheel steps the field and leaves the panel where it is");
        assertTrue(vm.parameters().stepsProperty().get() != steps, "Ctrl+wheel stepped Steps");
        assertTrue(spinner(robot, "#steps").getTooltip().getText().contains("Ctrl+wheel"), "the tooltip says how");
    }
}
