/**
 * NVIDIA GPU support without a CUDA install: what is there (driver, CUDA 12 / cuDNN 9 libraries
 * from the system, a PyTorch installation or the pack, GPUs and their memory), the GPU pack that
 * downloads the missing runtime files from their publishers into the user's data folder, the
 * start-up hook that points the engine at them, and a memory estimate before a GPU run.
 */
package dev.sd3studio.app.gpu;
