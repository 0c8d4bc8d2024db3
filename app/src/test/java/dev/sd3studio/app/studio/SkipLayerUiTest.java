package dev.sd3studio.app.studio;

import dev.sd3studio.app.studio.vm.StudioViewModel;
import dev.sd3studio.engine.api.SkipLayerGuidance;
import javafx.css.PseudoClass;
import javafx.scene.Node;
import javafx.scene.control.CheckBox;
import javafx.scene.control.Label;
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

/** Skip-layer guidance under a person's hands, on a model that recommends layers 7, 8, 9 of 24. */
@ExtendWith(ApplicationExtension.class)
class SkipLayerUiTest {
    private static final PseudoClass DANGER = PseudoClass.getPseudoClass("danger");

    @TempDir
    static Path tmp;
    private final FakeFactory engine = new FakeFactory();
    private StudioViewModel vm;
    private FakeStudio studio;

    @Start
    void start(Stage stage) throws Exception {
        engine.transformerBlocks = 24;
        engine.recommendedSkipLayers = List.of(7, 8, 9);
        studio = FakeStudio.show(stage, tmp, engine);
        vm = studio.vm;
    }

    @AfterEach
    void tearDown(FxRobot robot) {
        studio.close(robot);
    }

    private static void await(Callable<Boolean> condition) throws Exception {
        FakeStudio.await(condition);
    }

    /** Focus goes where a Tab would take it; the panel may show the node below its fold. */
    private static void focus(FxRobot robot, Node n) {
        robot.interact(n::requestFocus);
        WaitForAsyncUtils.waitForFxEvents();
    }

    private static void press(FxRobot robot, KeyCode... keys) {
        robot.press(keys).release(keys);
        WaitForAsyncUtils.waitForFxEvents();
    }

    private static void retype(FxRobot robot, TextField field, String text) {
        focus(robot, field);
        press(robot, KeyCode.CONTROL, KeyCode.A);
        robot.write(text);
        WaitForAsyncUtils.waitForFxEvents();
    }

    @Test
    void theSwitchTurnedOnByKeyboardSendsTheModelsLayersAndTheTypedAdvancedValues(FxRobot robot) throws Exception {
        await(() -> vm.parameters().modelProperty().get() != null
                && !vm.models().noteProperty().get().startsWith("Loading"));
        CheckBox on = robot.lookup("#skipLayersOn").queryAs(CheckBox.class);
        TextField layers = robot.lookup("#skipLayers").queryAs(TextField.class);
        Label cost = robot.lookup("#skipLayerCost").queryAs(Label.class);
        assertEquals("7,8,9", layers.getText(), "SD3.5 Medium's layers are filled in");
        assertEquals("7,8,9", layers.getPromptText(), "the suggestion is the model's own recommendation");
        assertTrue(layers.isDisabled(), "nothing to edit while SLG is off");
        assertTrue(robot.lookup("#skipLayerNote").queryAs(Label.class).getText().contains("0 to 23"));

        focus(robot, on);
        press(robot, KeyCode.SPACE);
        assertTrue(on.isSelected());
        assertFalse(layers.isDisabled());
        assertEquals("+1 pass on 5 of 28 steps", cost.getText());

        retype(robot, layers, "7,8,30");
        assertTrue(layers.getPseudoClassStates().contains(DANGER), "a block the model lacks is marked");
        assertTrue(layers.getTooltip().getText().contains("from 0 to 23"), layers.getTooltip().getText());
        robot.interact(() -> vm.prompt().promptProperty().set("a red fox"));
        press(robot, KeyCode.CONTROL, KeyCode.ENTER);
        assertTrue(engine.requests.isEmpty() && vm.generation().jobs().isEmpty(), "Generate refuses block 30");
        focus(robot, layers);
        press(robot, KeyCode.ESCAPE);
        assertEquals("7,8,9", layers.getText());
        assertFalse(layers.getPseudoClassStates().contains(DANGER));

        // the advanced values: one click away (the keyboard's Space on its button)
        Node advanced = robot.lookup("#skipLayerAdvanced").query();
        assertFalse(robot.lookup("#skipLayerStop").query().isVisible(), "folded away at first");
        focus(robot, advanced);
        press(robot, KeyCode.SPACE);
        assertTrue(robot.lookup("#skipLayerStop").query().isVisible());
        TextField stop = robot.lookup("#skipLayerStop").queryAs(Spinner.class).getEditor();
        retype(robot, stop, "0.5");
        press(robot, KeyCode.TAB);
        assertEquals("+1 pass on 13 of 28 steps", cost.getText());

        press(robot, KeyCode.CONTROL, KeyCode.ENTER);
        await(() -> engine.requests.size() == 1);
        assertEquals(new SkipLayerGuidance(List.of(7, 8, 9), SkipLayerGuidance.DEFAULT_SCALE,
                SkipLayerGuidance.DEFAULT_START, 0.5), engine.requests.getFirst().skipLayers());
    }
}
