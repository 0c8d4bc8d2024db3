/**
 * The studio and the command line. Nothing is exported: the app is the end of the line. The engine is
 * reached only through its exported {@code api}; the openings below are for the libraries that reflect
 * (picocli on the commands, Jackson on settings and GPU-pack records, JavaFX on the application class).
 * The launcher and the installers run on the class path, where this descriptor is not enforced at run
 * time; compiling against it is what holds the boundary.
 */
module dev.sd3studio.app {
    requires dev.sd3studio.engine;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    requires org.tukaani.xz;
    requires org.apache.commons.compress;
    requires javafx.controls;
    requires javafx.swing;
    requires atlantafx.base;
    requires java.desktop;
    requires java.net.http;
    requires java.logging;

    exports dev.sd3studio.app.studio to javafx.graphics;
    opens dev.sd3studio.app.cli to info.picocli;
    opens dev.sd3studio.app.settings to com.fasterxml.jackson.databind;
    opens dev.sd3studio.app.gpu to com.fasterxml.jackson.databind;
}
