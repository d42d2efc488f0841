#pragma once
// TF32 tensor cores (compute capability 8.0 and later) through PTX: rounding FP32 to TF32, and
// one warp's 16 x 8 x 8 product. In the emulated tests both run on the CPU with the fragment
// layout PTX documents (kernels/cuda/emulation.h, mma_m16n8k8_tf32), so a kernel that puts an
// element in the wrong register computes a wrong result there too.
//
// TF32 keeps FP32's 8-bit exponent and 10 of its 23 mantissa bits: an operand rounded to it is
// off by at most 2^-11 of its size, so a product by at most ~2^-10, and a sum of K products of
// random sign by ~2^-10 of the sum's size. That is the accuracy the opt-in TF32 paths promise
// (tests/kernels/cuda/conv_tf32_test.cpp holds them to it), against ~1e-7 for FP32.
#include "kernels/cuda/common.cuh"

#include <cstdint>

namespace sgan::cuda {

// x rounded to the nearest TF32 value, ties away from zero (cvt.rna.tf32.f32), as a float whose
// low 13 bits are zero.
__device__ __forceinline__ float round_to_tf32(float x) {
#if defined(SGAN_CUDA_EMULATION)
  return emulation::round_to_tf32(x);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  std::uint32_t bits;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(bits) : "f"(x));
  return __uint_as_float(bits);
#else
  return x; // no TF32 before sm_80; the TF32 kernels trap there (mma_m16n8k8_tf32)
#endif
}

// d = A B + d for the warp's 16 x 8 x 8 tile, every lane taking part (mma.sync .aligned):
// with g = lane / 4 and t = lane % 4,
//   a[r] = A[g + 8 (r % 2)][t + 4 (r / 2)],  b[r] = B[t + 4 r][g],
//   d[r] = D[g + 8 (r / 2)][2 t + r % 2].
// The operands are TF32 values' bits (round_to_tf32, then __float_as_uint).
__device__ __forceinline__ void mma_m16n8k8_tf32(float (&d)[4], const std::uint32_t (&a)[4],
                                                 const std::uint32_t (&b)[2]) {
#if defined(SGAN_CUDA_EMULATION)
  emulation::mma_m16n8k8_tf32(d, a, b);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#elif defined(__CUDA_ARCH__)
  __trap(); // an sm_70/75 build: the host refuses TF32 there before any launch
#else
  (void)d, (void)a, (void)b;
#endif
}

} // namespace sgan::cuda
