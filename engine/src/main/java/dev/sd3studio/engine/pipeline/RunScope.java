package dev.sd3studio.engine.pipeline;

/**
 * One generation's native state, like DJL's sub-manager: the transformer inputs made once per
 * generation, the reused latent buffer and the preview worker. Everything it owns is closed in one
 * place, in reverse order, when {@code generate} ends, however it ends; the preview worker is
 * stopped and awaited before the generation's lease on the model is given back.
 */
final class RunScope implements AutoCloseable {
    private final Closer owned = new Closer();

    <T extends AutoCloseable> T own(T resource) {
        return owned.add(resource);
    }

    @Override
    public void close() {
        owned.close();
    }
}
