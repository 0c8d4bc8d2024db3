package dev.sd3studio.app.settings;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A damaged settings file costs only what is damaged: readable fields are kept, the file is set
 * aside (never overwritten unread), and the store says so once. Cases from the reliability report.
 */
class SettingsStoreTest {
    @TempDir
    Path config;
    private SettingsStore store;
    private Settings mine;

    @BeforeEach
    void writeTheUsersSettings() throws Exception {
        store = new SettingsStore(config.resolve("settings.json"));
        Settings.Parameters p = new Settings.Parameters("a fox", "blur", "", "", 512, 768, 30, 5.0, 3.0, false, 42, 2,
                "cpu", true, false, 256, 0.6, 2, new Settings.SkipLayers(true, "7,8,9", 3.0, 0.02, 0.25));
        mine = new Settings(new Settings.Window(10, 20, 900, 700, false, 0.3, 0.7), "dark", List.of("/models/sd3"),
                "sd3", "/pictures/sd3", p, List.of("one", "two", "three"), Settings.Export.defaults(),
                java.util.Map.of("/models/sd3", List.of("/loras/style.safetensors:0.8", "/loras/b.safetensors:1")));
        store.save(mine);
    }

    @Test
    void anIntactFileIsReadAsItIs() {
        assertEquals(mine, store.load());
        assertTrue(store.damage().isEmpty());
    }

    @Test
    void oneWrongTypedFieldCostsOnlyThatField() throws Exception {
        replace("\"theme\" : \"dark\"", "\"theme\" : {}");
        Settings s = store.load();
        assertEquals("system", s.theme());
        assertEquals(mine.outputFolder(), s.outputFolder());
        assertEquals(mine.modelFolders(), s.modelFolders());
        assertEquals(mine.promptHistory(), s.promptHistory());
        assertEquals(mine.parameters(), s.parameters());
        assertTrue(store.damage().orElseThrow().contains("theme"), store.damage().toString());
    }

    @Test
    void aWrongTypedNestedFieldCostsOnlyThatNestedField() throws Exception {
        replace("\"width\" : 512", "\"width\" : \"wide\"");
        Settings s = store.load();
        assertEquals(Settings.Parameters.defaults().width(), s.parameters().width());
        assertEquals("a fox", s.parameters().prompt());
        assertEquals(768, s.parameters().height());
        assertTrue(store.damage().orElseThrow().contains("parameters.width"));
    }

    @Test
    void aTruncatedFileKeepsEverythingBeforeTheCutAndIsSetAside() throws Exception {
        byte[] whole = Files.readAllBytes(store.file());
        int cut = new String(whole, StandardCharsets.UTF_8).indexOf("\"steps\"") + 12; // inside "steps": 30
        Files.write(store.file(), Arrays.copyOf(whole, cut));
        Settings s = store.load();
        assertEquals("dark", s.theme());
        assertEquals(mine.outputFolder(), s.outputFolder());
        assertEquals(mine.modelFolders(), s.modelFolders());
        assertEquals("a fox", s.parameters().prompt());
        assertEquals(768, s.parameters().height());
        assertEquals(Settings.Parameters.defaults().steps(), s.parameters().steps(), "a number at the cut is not trusted");
        assertEquals(List.of(), s.promptHistory());
        assertArrayEquals(Arrays.copyOf(whole, cut), Files.readAllBytes(asideFile()), "the damaged file is kept as it was");
        assertEquals(s, new SettingsStore(store.file()).load(), "what was read is written back");
    }

    @Test
    void everyDamagedVariantStartsKeepsTheOriginalAndSaysSo() throws Exception {
        String[] variants = {"", "{\"theme\": \"da", "garbage \u0000\u0001", "null", "[1,2]", "\"text\"",
                "{\"modelFolders\": \"/x\"}", "{\"window\": 5}", "[".repeat(50_000), "{\"a\":".repeat(50_000)};
        for (String v : variants) {
            Files.writeString(store.file(), v);
            Settings s = store.load();
            assertTrue(store.damage().isPresent(), "no message for: " + head(v));
            assertEquals(v, Files.readString(asideFile()), "original not kept for: " + head(v));
            assertTrue(s.theme().equals("system") || s.theme().equals("dark"));
            clearAside();
        }
    }

    @Test
    void aFolderInPlaceOfTheFileIsSetAsideToo() throws Exception {
        Files.delete(store.file());
        Files.createDirectories(store.file().resolve("inside"));
        assertEquals(Settings.defaults(), store.load());
        assertTrue(store.damage().isPresent());
        assertTrue(Files.isDirectory(asideFile().resolve("inside")));
    }

    @Test
    void aPathThePlatformCannotNameIsDroppedNotFatal() throws Exception {
        replace("\"/pictures/sd3\"", "\"/pictures/a\\u0000b\"");
        replace("\"/models/sd3\"", "\"/models/sd3\", \"/models/x\\u0000y\"");
        Settings s = store.load();
        assertNull(s.outputFolder());
        assertEquals(List.of("/models/sd3"), s.modelFolders());
        assertEquals("dark", s.theme());
        assertTrue(store.damage().orElseThrow().contains("outputFolder"));
    }

    @Test
    void twoDamagedFilesInOneSecondAreBothKept() throws Exception {
        Files.writeString(store.file(), "{\"theme\": {}");
        store.load();
        Files.writeString(store.file(), "[]");
        store.load();
        try (Stream<Path> files = Files.list(config)) {
            assertEquals(2, files.filter(p -> p.getFileName().toString().startsWith("settings-damaged-")).count());
        }
    }

    private void replace(String from, String to) throws Exception {
        String text = Files.readString(store.file());
        assertTrue(text.contains(from), text);
        Files.writeString(store.file(), text.replace(from, to));
    }

    private Path asideFile() throws Exception {
        try (Stream<Path> files = Files.list(config)) {
            List<Path> aside = files.filter(p -> p.getFileName().toString().startsWith("settings-damaged-")).toList();
            assertEquals(1, aside.size(), aside.toString());
            return aside.getFirst();
        }
    }

    private void clearAside() throws Exception {
        Files.delete(asideFile());
    }

    private static String head(String s) {
        return s.length() > 20 ? s.substring(0, 20) + "…" : s;
    }
}
