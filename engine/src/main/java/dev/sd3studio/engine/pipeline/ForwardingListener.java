package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.api.StepEvent;

/** Passes every event on to another listener; subclasses override what they also observe. */
class ForwardingListener implements ProgressListener {
    private final ProgressListener delegate;

    ForwardingListener(ProgressListener delegate) {
        this.delegate = delegate;
    }

    @Override
    public void stage(String name) {
        delegate.stage(name);
    }

    @Override
    public void step(StepEvent event) {
        delegate.step(event);
    }

    @Override
    public void preview(int step, FloatTensor image) {
        delegate.preview(step, image);
    }

    @Override
    public void warning(String message) {
        delegate.warning(message);
    }

    @Override
    public void tensor(String name, FloatTensor value) {
        delegate.tensor(name, value);
    }

    @Override
    public void ids(String name, long[][] ids) {
        delegate.ids(name, ids);
    }
}
