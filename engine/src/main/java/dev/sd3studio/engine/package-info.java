/**
 * The SD3 engine: {@link dev.sd3studio.engine.Sd3Engine} opens a model folder as an {@link dev.sd3studio.engine.api.Sd3Generator}. No UI toolkit code lives anywhere in the engine.
 */
package dev.sd3studio.engine;
