/**
 * View-models: the studio's state as observable properties and lists, and the actions on it.
 * They use javafx.beans / javafx.collections only, never {@code javafx.scene.control} (an ArchUnit
 * test checks), hold images as engine {@code RgbImage}s, and run engine work through the
 * {@link dev.sd3studio.app.studio.task.TaskRunner} seam, so their tests need no toolkit.
 */
package dev.sd3studio.app.studio.vm;
