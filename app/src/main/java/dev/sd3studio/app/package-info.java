/**
 * SD3 Studio application: the JavaFX studio and the command line. Talks to the engine through its api package only; no ONNX Runtime code here.
 */
package dev.sd3studio.app;
