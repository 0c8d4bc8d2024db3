package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.gallery.ExportFormat;
import dev.sd3studio.app.gallery.Exporter;
import dev.sd3studio.app.gallery.GalleryItem;
import dev.sd3studio.app.gallery.GalleryStore;
import dev.sd3studio.app.gallery.PngMetadata;
import dev.sd3studio.app.studio.task.TaskRunner;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleDoubleProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;
import javafx.collections.transformation.FilteredList;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/** Everything generated, newest first; selection, delete with undo, and export. */
public final class GalleryViewModel {
    private final TaskRunner runner;
    private final GalleryStore store;
    private final Consumer<UserMessage> messages;
    private final Consumer<UserMessage> withdraw;
    private UserMessage deletedNote;
    private final ObservableList<GalleryItem> items = FXCollections.observableArrayList();
    private final StringProperty filter = new SimpleStringProperty("");
    private final FilteredList<GalleryItem> shown = new FilteredList<>(items);
    private final ObservableList<GalleryItem> selected = FXCollections.observableArrayList();
    private final List<GalleryItem> lastDeleted = new ArrayList<>();
    private final BooleanProperty canUndoDelete = new SimpleBooleanProperty(false);
    private final ObjectProperty<ExportFormat> exportFormat = new SimpleObjectProperty<>(ExportFormat.PNG);
    private final DoubleProperty exportQuality = new SimpleDoubleProperty(0.9);
    private final BooleanProperty exportMetadata = new SimpleBooleanProperty(true);
    private final StringProperty exportFolder = new SimpleStringProperty("");

    /** {@code withdraw} takes a message back off the banner if it is still the one shown. */
    GalleryViewModel(TaskRunner runner, GalleryStore store, Consumer<UserMessage> messages, Consumer<UserMessage> withdraw) {
        this.runner = runner;
        this.store = store;
        this.messages = messages;
        this.withdraw = withdraw;
        filter.addListener((o, a, f) -> {
            String needle = f == null ? "" : f.strip().toLowerCase(Locale.ROOT);
            shown.setPredicate(needle.isEmpty() ? null : i -> i.prompt().toLowerCase(Locale.ROOT).contains(needle));
            selected.retainAll(shown);
        });
    }

    public ObservableList<GalleryItem> items() { return items; }
    /** The items whose prompt contains the filter text (all when it is blank), newest first. */
    public ObservableList<GalleryItem> shown() { return shown; }
    /** Text a picture's prompt must contain to be shown. */
    public StringProperty filterProperty() { return filter; }
    /** Kept in step with the view's selection. */
    public ObservableList<GalleryItem> selected() { return selected; }
    public BooleanProperty canUndoDeleteProperty() { return canUndoDelete; }
    public ObjectProperty<ExportFormat> exportFormatProperty() { return exportFormat; }
    public DoubleProperty exportQualityProperty() { return exportQuality; }
    public BooleanProperty exportMetadataProperty() { return exportMetadata; }
    public StringProperty exportFolderProperty() { return exportFolder; }

    /** The parameters of a gallery item as the widely used text (A1111's "parameters"). */
    public static String parametersText(GalleryItem item) {
        return PngMetadata.parametersText(new LinkedHashMap<>(item.parameters()));
    }

    /** The user's Pictures folder, where exports go until another folder is chosen. */
    public static Path defaultExportFolder() {
        return Path.of(System.getProperty("user.home"), "Pictures");
    }

    void restoreExport(dev.sd3studio.app.settings.Settings.Export e) {
        exportFolder.set(e.folder() == null || e.folder().isBlank() ? defaultExportFolder().toString() : e.folder());
        exportFormat.set(formats().stream().filter(f -> f.name().equalsIgnoreCase(e.format())).findFirst()
                .orElse(ExportFormat.PNG));
        exportMetadata.set(e.metadata());
        exportQuality.set(e.quality() > 0 && e.quality() <= 1 ? e.quality() : 0.9);
    }

    dev.sd3studio.app.settings.Settings.Export exportSettings() {
        String folder = exportFolder.get();
        return new dev.sd3studio.app.settings.Settings.Export(
                folder == null || folder.isBlank() || folder.equals(defaultExportFolder().toString()) ? null : folder,
                exportFormat.get() == null ? "PNG" : exportFormat.get().name(), exportMetadata.get(), exportQuality.get());
    }

    public List<ExportFormat> formats() {
        return ExportFormat.available();
    }

    public Path folder() {
        return store.dir();
    }

    void reload() {
        runner.run("gallery-load", store::load, items::setAll, e -> messages.accept(ErrorMessages.of(e)));
    }

    void added(List<GalleryItem> fresh) {
        items.addAll(0, fresh.reversed());
    }

    public void deleteSelected() {
        delete(List.copyOf(selected));
    }

    /** Moves pictures to the gallery's trash; {@link #undoDelete()} brings the last ones back. */
    public void delete(List<GalleryItem> doomed) {
        if (doomed.isEmpty()) {
            return;
        }
        runner.run("gallery-delete", () -> {
            for (GalleryItem i : doomed) {
                store.delete(i);
            }
            return doomed;
        }, done -> {
            items.removeAll(done);
            selected.removeAll(done);
            lastDeleted.clear();
            lastDeleted.addAll(done);
            canUndoDelete.set(true);
            deletedNote = UserMessage.info("Deleted " + done.size() + " image(s). Undo brings them back.");
            messages.accept(deletedNote);
        }, e -> messages.accept(ErrorMessages.of(e)));
    }

    public void undoDelete() {
        List<GalleryItem> back = List.copyOf(lastDeleted);
        runner.run("gallery-undo", () -> {
            for (GalleryItem i : back) {
                store.restore(i);
            }
            return back;
        }, done -> {
            lastDeleted.clear();
            canUndoDelete.set(false);
            if (deletedNote != null) {
                withdraw.accept(deletedNote); // "Undo brings them back" is done: the note would now mislead
                deletedNote = null;
            }
            items.addAll(done);
            // restored items keep their names, so sorting by name restores "newest first"
            FXCollections.sort(items, (a, b) -> b.file().getFileName().compareTo(a.file().getFileName()));
        }, e -> messages.accept(ErrorMessages.of(e)));
    }

    /** Exports the selection (or everything when nothing is selected) to the export folder. */
    public void exportSelected() {
        List<GalleryItem> chosen = selected.isEmpty() ? List.copyOf(items) : List.copyOf(selected);
        String folder = exportFolder.get();
        if (folder == null || folder.isBlank()) {
            messages.accept(UserMessage.warning("Choose an export folder first."));
            return;
        }
        var options = new Exporter.Options(exportFormat.get(), (float) exportQuality.get(), exportMetadata.get());
        runner.run("export", () -> Exporter.export(chosen, Path.of(folder), options),
                report -> messages.accept(report.skipped().isEmpty()
                        ? UserMessage.info("Exported " + report.written().size() + " image(s) to " + folder + ".")
                        : UserMessage.warning("Exported " + report.written().size() + " of " + chosen.size()
                        + " image(s) to " + folder + "; skipped " + String.join(", ", report.skipped()) + ".")),
                e -> messages.accept(ErrorMessages.of(e)));
    }
}
