package dev.sd3studio.app.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One in-process run of the command line, as the tests see it: exit status, standard output, standard error. */
public record CliRun(int exit, String out, String err) {
    public static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Cli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new CliRun(exit, out.toString(), err.toString());
    }
}
