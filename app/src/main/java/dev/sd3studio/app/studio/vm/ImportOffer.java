package dev.sd3studio.app.studio.vm;

import dev.sd3studio.engine.api.RgbImage;

import java.nio.file.Path;
import java.util.Map;

/** A dropped PNG made by this app: the user chooses between its parameters and its pixels. */
public record ImportOffer(Path file, Map<String, String> parameters, RgbImage image) {
}
