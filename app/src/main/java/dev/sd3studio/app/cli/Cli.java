package dev.sd3studio.app.cli;

import dev.sd3studio.app.AppVersion;
import dev.sd3studio.engine.api.EngineException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * The {@code sd3studio} command line. Errors are one line on stderr and a non-zero exit: 2 for a
 * wrong command line, 1 for anything that failed while running; no stack traces unless
 * {@code SD3STUDIO_DEBUG} is set.
 */
@Command(name = "sd3studio", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = "Stable Diffusion 3 on ONNX Runtime. Run without arguments to open the studio.",
        subcommands = {GenerateCommand.class, TokenizeCommand.class, CheckModelCommand.class, BenchCommand.class, PullCommand.class, GpuCommand.class})
public final class Cli implements Runnable {
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;

    /** {@code --version}: the one version string of {@link AppVersion}. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {AppVersion.display()};
        }
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** A path the platform cannot name is a usage error in words, not a Java exception's text. */
    private static Path path(String value) {
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            String shown = value.codePoints().mapToObj(c -> Character.isISOControl(c) ? String.format("\\u%04x", c)
                    : Character.toString(c)).collect(java.util.stream.Collectors.joining());
            throw new CommandLine.TypeConversionException("'" + shown + "' is not a valid path (" + e.getReason() + ")");
        }
    }

    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cmd = new CommandLine(new Cli());
        cmd.setOut(out);
        cmd.setErr(err);
        // a later --width wins, so scripts can append overrides to a base command
        cmd.setOverwrittenOptionsAllowed(true);
        cmd.registerConverter(Path.class, Cli::path);
        cmd.setParameterExceptionHandler((ex, a) -> {
            String sub = ex.getCommandLine().getCommandName();
            err.println("error: " + ex.getMessage() + " (see: sd3studio " + ("sd3studio".equals(sub) ? "" : sub + " ")
                    + "--help)");
            return EXIT_USAGE;
        });
        cmd.setExecutionExceptionHandler((ex, c, parsed) -> {
            if (ex instanceof EngineException e) {
                err.println("error: " + e.getMessage());
                return e.kind() == EngineException.Kind.INVALID_REQUEST ? EXIT_USAGE : EXIT_FAILED;
            }
            if (ex instanceof CliException e) {
                err.println("error: " + e.getMessage());
                return e.exitCode();
            }
            err.println("error: unexpected failure (" + ex.getClass().getSimpleName() + ": " + ex.getMessage()
                    + "); please report it with SD3STUDIO_DEBUG=1 output.");
            if (System.getenv("SD3STUDIO_DEBUG") != null) {
                ex.printStackTrace(err);
            }
            return EXIT_FAILED;
        });
        return cmd.execute(args);
    }
}
