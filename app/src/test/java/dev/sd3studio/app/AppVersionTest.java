package dev.sd3studio.app;

import dev.sd3studio.app.cli.Cli;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One version string: the pom's, as the build wrote it, shown by the command line and the About dialog. */
class AppVersionTest {
    @Test
    void theBuildWroteAReleaseStyleVersion() {
        assertTrue(AppVersion.number().matches("\\d+\\.\\d+\\.\\d+"),
                "jpackage needs a numeric version, got " + AppVersion.number());
    }

    @Test
    void aSnapshotSuffixIsDropped() {
        assertEquals("1.2.3", AppVersion.strip("1.2.3-SNAPSHOT"));
        assertEquals("1.2.3", AppVersion.strip("1.2.3"));
    }

    @Test
    void commandLinePrintsTheSameVersion() {
        StringWriter out = new StringWriter();
        int exit = Cli.run(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "--version");
        assertEquals(0, exit);
        assertEquals("SD3 Studio " + AppVersion.number(), out.toString().strip());
    }
}
