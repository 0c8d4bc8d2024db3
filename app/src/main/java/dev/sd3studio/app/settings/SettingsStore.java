package dev.sd3studio.app.settings;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sd3studio.engine.api.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Reads and writes {@link Settings} as JSON, atomically. A damaged file is never silently replaced:
 * what can be read is kept, the file itself is moved aside (and the readable part written back),
 * and {@link #damage()} says so once for the studio to show. If it cannot be moved aside, nothing
 * is ever written over it.
 */
public final class SettingsStore {
    private static final Logger LOG = Logger.getLogger(SettingsStore.class.getName());
    /** Far beyond any real settings file (the history is trimmed to 50 prompts). */
    static final long MAX_BYTES = 64L << 20;
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
    private final Path file;
    private final ObjectMapper json = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, false)
            .enable(SerializationFeature.INDENT_OUTPUT);
    private volatile String damage;
    private volatile boolean frozen;

    public SettingsStore(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    /** One line for the user when the last {@link #load} found a damaged file; empty otherwise. */
    public Optional<String> damage() {
        return Optional.ofNullable(damage);
    }

    public Settings load() {
        if (Files.notExists(file, LinkOption.NOFOLLOW_LINKS)) {
            return Settings.defaults();
        }
        SettingsReader.Outcome read;
        try {
            if (!Files.isRegularFile(file)) {
                throw new IOException("it is not a file");
            }
            if (Files.size(file) > MAX_BYTES) {
                throw new IOException("it is " + (Files.size(file) >> 20) + " MB");
            }
            read = new SettingsReader(json).read(Files.readAllBytes(file));
        } catch (IOException | RuntimeException e) {
            read = new SettingsReader.Outcome(Settings.defaults(), java.util.List.of("everything (" + e.getMessage() + ")"));
        }
        if (read.damaged()) {
            setAside(read);
        }
        return read.settings();
    }

    /**
     * The settings as far as they can be read, without ever moving or rewriting the file: for the
     * command line, which only looks at what the studio remembers.
     */
    public Settings peek() {
        try {
            if (!Files.isRegularFile(file) || Files.size(file) > MAX_BYTES) {
                return Settings.defaults();
            }
            return new SettingsReader(json).read(Files.readAllBytes(file)).settings();
        } catch (IOException | RuntimeException e) {
            return Settings.defaults();
        }
    }

    /** Keeps the damaged file under a new name and writes back what could be read. */
    private void setAside(SettingsReader.Outcome read) {
        String lost = String.join(", ", read.lost());
        Path aside = asideName();
        try {
            Files.move(file, aside);
        } catch (IOException e) {
            frozen = true;
            damage = "The settings file " + file + " is damaged (lost: " + lost + ") and could not be moved aside ("
                    + e.getMessage() + "); SD3 Studio will not change it this session. Fix or remove it.";
            LOG.log(Level.WARNING, damage);
            return;
        }
        damage = "The settings file was damaged; SD3 Studio kept what it could read (lost: " + lost
                + ") and saved the damaged file as " + aside + ".";
        LOG.log(Level.WARNING, damage);
        try {
            save(read.settings());
        } catch (IOException e) {
            LOG.log(Level.WARNING, "could not write the settings back to " + file, e);
        }
    }

    private Path asideName() {
        String stamp = LocalDateTime.now().format(STAMP);
        Path aside = file.resolveSibling("settings-damaged-" + stamp + ".json");
        for (int i = 2; Files.exists(aside, LinkOption.NOFOLLOW_LINKS); i++) {
            aside = file.resolveSibling("settings-damaged-" + stamp + "-" + i + ".json");
        }
        return aside;
    }

    public void save(Settings settings) throws IOException {
        if (frozen) {
            return; // the user's damaged file stays as it is until they look at it
        }
        Files.createDirectories(file.getParent());
        AtomicFiles.write(file, json.writeValueAsBytes(settings));
    }
}
