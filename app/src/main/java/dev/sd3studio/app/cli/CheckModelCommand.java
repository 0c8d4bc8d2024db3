package dev.sd3studio.app.cli;

import dev.sd3studio.engine.Sd3Engine;
import dev.sd3studio.engine.api.ModelReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code sd3studio check-model}: each component found, missing or unreadable, with its interface. */
@Command(name = "check-model", mixinStandardHelpOptions = true,
        description = "Inspect a model folder: each part found / missing / unreadable, its format, size, inputs and outputs.")
public final class CheckModelCommand implements Callable<Integer> {
    @Mixin
    ModelOption model;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ModelReport report = Sd3Engine.check(model.resolve(), model.checkpointFiles());
        PrintWriter out = spec.commandLine().getOut();
        out.println("model: " + report.root() + " (" + report.layout() + (report.layout().contains(" ") ? ")" : " layout)"));
        for (ModelReport.Part p : report.parts()) {
            out.printf(Locale.ROOT, "%-15s %-10s %-28s %10s  %s%n", p.name(), p.status().name().toLowerCase(Locale.ROOT),
                    p.format(), p.bytes() == 0 ? "-" : humanSize(p.bytes()),
                    p.description() + (p.required() ? "" : " (optional)"));
            p.inputs().forEach(i -> out.println("                  in:  " + i));
            p.outputs().forEach(o -> out.println("                  out: " + o));
            if (p.problem() != null) {
                out.println("                  problem: " + p.problem());
            }
        }
        report.notes().forEach(n -> out.println("note: " + n));
        if (report.usable()) {
            out.println("result: usable");
            return 0;
        }
        out.println("result: NOT usable, missing or unreadable: " + String.join(", ", report.missingRequired()));
        spec.commandLine().getErr().println("error: " + report.root() + " is not a complete SD3 model: "
                + String.join(", ", report.missingRequired()));
        return Cli.EXIT_FAILED;
    }

    static String humanSize(long bytes) {
        if (bytes < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KB", bytes / 1024.0);
        }
        if (bytes < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MB", bytes / 1024.0 / 1024);
        }
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1024.0 / 1024 / 1024);
    }
}
