#pragma once
// The case families of sgan_bench_kernels, one per op file (bench/kernels/<op>_bench.cpp). Each
// file keeps its shapes in one table at its top, drawn from both recipes (../shared/SGAN.md), and
// registers one case per (op, direction, shape, batch) that times our kernel and its twin.
//
// Convolution cases run once per kernel variant (kernels/cuda/conv_variants.h): the default under
// the plain name, each candidate under "candidate/<variant>/<name>", both against the same twin.
// Batchnorm, activation and loss cases time what the engine runs, the variant its dispatch picks
// for the shape (kernels/cuda/*_variants.h). The convolutions also run the opt-in
// TF32 kernels (--tf32), under "tf32/<name>" and against cuDNN with TF32 allowed: not a candidate
// for the FP32 default but the other precision, compared with the vendor's in the same precision.
#if defined(SGAN_WITH_CUDNN)
#include "bench/kernels/harness.h"
#include "kernels/cuda/conv_variants.h"

#include <iterator>
#include <string>
#include <vector>

namespace sgan::bench {

// Memory-bound ops whose goal is a share of the copy bandwidth (batchnorm, activations, the loss,
// Adam, the parameter average) are also timed on this many floats per array, under shape names
// "large": 128 MiB an array, so every case's working set is several times the L2 cache (50 MB on
// an H100, 60 MB on an H200) and the bandwidth measured is DRAM's.
inline constexpr int large_elements = 1 << 25;

inline std::string variant_case_name(bool is_default, const char* variant,
                                     const std::string& name) {
  return is_default ? name : std::string("candidate/") + variant + "/" + name;
}

inline std::string conv_variant_case_name(cuda::ConvVariant variant, const std::string& name) {
  if (variant == cuda::ConvVariant::tf32_tensor_cores) return "tf32/" + name;
  return variant_case_name(variant == cuda::default_conv_variant, cuda::conv_variant_name(variant),
                           name);
}

// The convolution variants a run times: every FP32 one, and TF32 where the GPU has it (compute
// capability 8.0+).
inline std::vector<cuda::ConvVariant> timed_conv_variants(const Gpu& gpu) {
  std::vector<cuda::ConvVariant> variants(std::begin(cuda::conv_variants),
                                          std::end(cuda::conv_variants));
  variants.insert(variants.end(), std::begin(cuda::reordered_conv_variants),
                  std::end(cuda::reordered_conv_variants));
  if (gpu.roofline().compute_major >= 8) variants.push_back(cuda::ConvVariant::tf32_tensor_cores);
  return variants;
}

// The cuDNN math a variant is compared with: TF32 for the TF32 kernels, else FP32.
inline cudnn::ConvMath vendor_conv_math(cuda::ConvVariant variant) {
  return variant == cuda::ConvVariant::tf32_tensor_cores ? cudnn::ConvMath::tf32
                                                         : cudnn::ConvMath::fp32;
}

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
