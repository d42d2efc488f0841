#pragma once
// The case families of sgan_bench_kernels, one per op file (bench/kernels/<op>_bench.cpp). Each
// file keeps its shapes in one table at its top, drawn from both recipes (../shared/SGAN.md), and
// registers one case per (op, direction, shape, batch) that times our kernel and its twin.
#if defined(SGAN_WITH_CUDNN)
#include "bench/kernels/harness.h"

namespace sgan::bench {

void register_conv2d_cases(Gpu& gpu);
void register_conv_transpose2d_cases(Gpu& gpu);
void register_batchnorm_cases(Gpu& gpu);
void register_activation_cases(Gpu& gpu);
void register_dense_cases(Gpu& gpu);
void register_weight_norm_cases(Gpu& gpu);
void register_dropout_cases(Gpu& gpu);
void register_sgan_loss_cases(Gpu& gpu);
void register_optimizer_cases(Gpu& gpu);
void register_reduce_cases(Gpu& gpu);
void register_gather_cases(Gpu& gpu);

// Every family above, in that order.
inline void register_all_cases(Gpu& gpu) {
  register_conv2d_cases(gpu);
  register_conv_transpose2d_cases(gpu);
  register_batchnorm_cases(gpu);
  register_activation_cases(gpu);
  register_dense_cases(gpu);
  register_weight_norm_cases(gpu);
  register_dropout_cases(gpu);
  register_sgan_loss_cases(gpu);
  register_optimizer_cases(gpu);
  register_reduce_cases(gpu);
  register_gather_cases(gpu);
}

} // namespace sgan::bench
#endif
