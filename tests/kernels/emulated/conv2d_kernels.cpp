// kernels/cuda/conv2d.cu compiled as C++ for the CPU: its launches run under
// kernels/cuda/emulation.h (SGAN_CUDA_EMULATION, set for this target).
#include "kernels/cuda/conv2d.cu"
