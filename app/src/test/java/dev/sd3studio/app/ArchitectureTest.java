package dev.sd3studio.app;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.sd3studio.engine.Sd3Engine;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.equivalentTo;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The app never touches ONNX Runtime directly and reaches the engine only through its front door
 * ({@link Sd3Engine}) and its {@code api} package; view-models stay free of controls.
 */
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
    void theEngineIsReachedOnlyThroughItsFrontDoorAndApi() {
        noClasses().that().resideInAPackage("dev.sd3studio.app..")
                .should().dependOnClassesThat(resideInAPackage("dev.sd3studio.engine..")
                        .and(not(resideInAPackage("dev.sd3studio.engine.api..")))
                        .and(not(equivalentTo(Sd3Engine.class))))
                .check(app);
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
