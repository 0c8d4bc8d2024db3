package dev.sd3studio.app;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/** The app never touches ONNX Runtime directly; view-models stay free of controls. */
class ArchitectureTest {
    private final JavaClasses app = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.sd3studio.app");

    @Test
    void noOnnxRuntimeInTheApp() {
        noClasses().that().resideInAPackage("dev.sd3studio.app..")
                .should().dependOnClassesThat().resideInAPackage("ai.onnxruntime..").check(app);
    }

    @Test
    void viewModelsUseNoControls() {
        noClasses().that().resideInAPackage("dev.sd3studio.app.studio.vm..")
                .should().dependOnClassesThat().resideInAnyPackage("javafx.scene.control..", "javafx.scene..", "javafx.stage..")
                .check(app);
    }

    @Test
    void viewModelsDoNotKnowTheViews() {
        noClasses().that().resideInAPackage("dev.sd3studio.app.studio.vm..")
                .should().dependOnClassesThat().resideInAPackage("dev.sd3studio.app.studio.view..").check(app);
    }
}
