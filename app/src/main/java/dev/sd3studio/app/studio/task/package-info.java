/**
 * The one seam for background work: {@link dev.sd3studio.app.studio.task.TaskRunner}, with an FX
 * implementation (daemon threads, results on the FX thread) and a synchronous twin for tests.
 * View-models and views never create threads themselves.
 */
package dev.sd3studio.app.studio.task;
