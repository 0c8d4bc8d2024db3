package dev.sd3studio.app.studio.vm;

import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.GenerationRequest;
import javafx.beans.property.ReadOnlyObjectProperty;
import javafx.beans.property.ReadOnlyObjectWrapper;

import java.nio.file.Path;

/** One queued generation: its request frozen at enqueue time, so editing goes on meanwhile. */
public final class Job {
    public enum Status { QUEUED, RUNNING, DONE, FAILED, CANCELLED }

    private final int id;
    private final Path model;
    private final EngineOptions options;
    private final GenerationRequest request;
    private final CancelToken cancel = new CancelToken();
    private final ReadOnlyObjectWrapper<Status> status = new ReadOnlyObjectWrapper<>(Status.QUEUED);

    Job(int id, Path model, EngineOptions options, GenerationRequest request) {
        this.id = id;
        this.model = model;
        this.options = options;
        this.request = request;
    }

    public int id() {
        return id;
    }

    public Path model() {
        return model;
    }

    public EngineOptions options() {
        return options;
    }

    public GenerationRequest request() {
        return request;
    }

    CancelToken cancelToken() {
        return cancel;
    }

    public ReadOnlyObjectProperty<Status> statusProperty() {
        return status.getReadOnlyProperty();
    }

    public Status status() {
        return status.get();
    }

    void setStatus(Status s) {
        status.set(s);
    }

    public String label() {
        String p = request.prompts().getFirst();
        return "#" + id + " " + (p.length() > 40 ? p.substring(0, 40) + "…" : p) + " · " + request.steps() + " steps"
                + (request.isImageToImage() ? " · img2img" : "");
    }
}
