// conv2d on the GPU: the implicit-GEMM kernels of conv_implicit_gemm.cuh with the tile for each
// shape and variant (conv_variants.h), the split of backward_weight's long reduction, and the
// per-channel bias gradient.
#include "kernels/conv2d.h"
#include "kernels/cuda/conv_direct.cuh"
#include "kernels/cuda/conv_implicit_gemm.cuh"
#include "kernels/cuda/conv_variants.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace sgan::cuda {
namespace {

using conv::Fragments;
using conv::Tile;

// The tiles of each fragment layout. forward / backward_data: chosen by the number of output
// channels N, so that a narrow product does not leave most of a 64-wide tile idle (wide: N > 32,
// narrow: 4 < N <= 32, few: N <= 4, e.g. 64 -> 1); backward_weight: by its number of rows
// M = c_out, likewise. 16 k per slice.
template <Fragments F> struct Tiles { // FP32: 256 threads, 4 x 4 accumulators a thread
  using wide = Tile<64, 64, 16, 4, 4, F>;
  using narrow = Tile<128, 32, 16, 4, 4, F>;
  using few = Tile<256, 4, 16, 4, 1, F>;
  using weight = Tile<64, 64, 16, 4, 4, F>;
  using narrow_weight = Tile<32, 128, 16, 4, 4, F>;
  using few_weight = Tile<4, 256, 16, 1, 4, F>;
};
// TF32: warps of 32 x 32 outputs (2 x 4 MMA tiles of 16 x 8) on 4 warps, except where one axis is
// short: the few-channel forward's warps hold one 16 x 8 tile (8 columns are the fewest an MMA
// has), the few-row backward_weight's 16 x 32.
template <> struct Tiles<Fragments::tf32_tensor_cores> {
  static constexpr Fragments F = Fragments::tf32_tensor_cores;
  using wide = Tile<64, 64, 16, 4, 8, F>;
  using narrow = Tile<128, 32, 16, 4, 8, F>;
  using few = Tile<128, 8, 16, 2, 2, F>; // 8 warps
  using weight = Tile<64, 64, 16, 4, 8, F>;
  using narrow_weight = Tile<32, 128, 16, 4, 8, F>;
  using few_weight = Tile<16, 256, 16, 2, 8, F>; // 8 warps
};

// The one_column_tiles variant's tiles for a product of one column (N = 1: G's 64 -> 1 output
// layer forward, D's 1 -> 64 input layer backward_data) or one row (backward_weight of a
// 1-channel output), where the few-channel tiles above compute 3 zero columns (rows) for every
// real one.
using OneColumnTile = Tile<256, 1, 16, 1, 1>;
using OneRowWeightTile = Tile<1, 256, 16, 1, 1>;

// The large_thread_tiles variant's tiles: 8 x 4 paired-lane accumulators a thread on 256 threads.
using LargeThreadTile = Tile<128, 64, 16, 8, 4, Fragments::contiguous_paired_lanes>;
using LargeThreadWeightTile = Tile<64, 128, 16, 4, 8, Fragments::contiguous_paired_lanes>;

// The double_buffered_slices variant's tiles: measured_tiles' 64 x 64 paired-lane tiles through
// two shared-memory stages. Left to itself ptxas gives the two-stage backward_data 73 registers a
// thread (3 blocks an SM) against the one-stage tile's 64 (4 blocks), so the forward and
// backward_data tile asks for 4 blocks an SM: 64 registers, no spills (nvcc 13.0, sm_90). The
// backward_weight tile keeps ptxas' 74 (3 blocks, as the one-stage tile's 73): held to 64 it
// spills.
using DoubleBufferedTile = Tile<64, 64, 16, 4, 4, Fragments::contiguous_paired_lanes, 2, 4>;
using DoubleBufferedWeightTile = Tile<64, 64, 16, 4, 4, Fragments::contiguous_paired_lanes, 2>;

// backward_weight splits its K = n h_out w_out until there are about this many blocks (two for
// each of an H100's 132 SMs).
constexpr std::int64_t weight_grad_target_blocks = 264;

constexpr std::int64_t max_grid_x = 2147483647;
constexpr std::int64_t max_grid_yz = 65535;
constexpr int reduction_threads = 256;

std::int64_t ceil_div64(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// A split of K: each of `splits` parts sums k_per_split of it (a multiple of the tile's bk; the
// last part what is left, none empty).
struct KPartition {
  std::int64_t k_per_split = 0;
  int splits = 1;
};

// K (k_size, in slices of bk) split so that `blocks` tiles make about target_blocks blocks, each
// part summing at least min_slices_per_split slices; one part where the tiles alone reach the
// target or K is too short. The split depends on the shape only, so the result and its rounding
// are the same on every GPU.
constexpr int min_slices_per_split = 8;
KPartition partition_k(std::int64_t k_size, int bk, std::int64_t blocks,
                       std::int64_t target_blocks) {
  const std::int64_t slices = ceil_div64(k_size, bk);
  const std::int64_t wanted = std::clamp<std::int64_t>(
      target_blocks / blocks, 1, std::max<std::int64_t>(slices / min_slices_per_split, 1));
  const std::int64_t k_per_split = ceil_div64(slices, wanted) * bk;
  if (wanted == 1) return {k_per_split, 1};
  return {k_per_split, static_cast<int>(ceil_div64(k_size, k_per_split))};
}

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("conv2d (cuda): " + what);
}

// sum_z partials[z][e] with z in increasing order (each part `size` floats): what the second,
// fixed-order pass of every split product adds up. Unrolled so that 8 of a thread's loads are in
// flight at once (the additions keep their order): D.conv1's backward_weight adds 262 parts for
// each of its 576 weights on 3 blocks, 17 of its 58 us on an H200 (ncu, 2026-12-04).
__device__ float sum_of_parts(const float* __restrict__ partials, std::int64_t size, int splits,
                              std::int64_t e) {
  float sum = 0.0f;
#pragma unroll 8
  for (int z = 0; z < splits; ++z) sum += __ldg(partials + z * size + e);
  return sum;
}

// dw[e] += sum_z partials[z][e]: the second pass of the split backward_weight reductions and of
// the split bias gradient.
__global__ void sum_partials_kernel(std::int64_t size, int splits,
                                    const float* __restrict__ partials, float* __restrict__ dw) {
  for (std::int64_t e = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; e < size;
       e += std::int64_t(gridDim.x) * blockDim.x)
    dw[e] += sum_of_parts(partials, size, splits, e);
}

// The bias gradient's channel sums, db[c] += sum over (image, p) of dy[image, c, p], with each
// channel's m = images x pixels values split into parts of channel_sum_share values, a block a
// (part, channel), each thread summing a strided share of its part (8 values, loads independent
// of one another) before a fixed-order block sum; where a channel has several parts, a second
// pass (sum_partials_kernel) adds them in order. One block a channel, as before 2026-12-04, put
// G.to_image's 1-channel bias gradient on a single block (50,176 values at batch 64: 39.5 us on an
// H200 against cuDNN's 27, bench/TUNING.md, prediction 15) and D.conv1's 64 channels on 64 of 132
// SMs.
constexpr int channel_sum_share = 8 * reduction_threads;

// partials[part channels + c] (or db[c] += it, with one part): the part's sum in a fixed order.
__global__ void channel_sum_kernel(int channels, int per_channel, FastDivmod image_pixels,
                                   const float* __restrict__ dy, float* __restrict__ partials,
                                   float* __restrict__ db) {
  __shared__ float scratch[warp_size];
  const int part = blockIdx.x, c = blockIdx.y;
  const std::int64_t pixels = image_pixels.divisor;
  const int end = min(per_channel, (part + 1) * channel_sum_share);
  float sum = 0.0f;
  for (int e = part * channel_sum_share + threadIdx.x; e < end; e += blockDim.x) {
    int image, p;
    image_pixels.divmod(e, image, p);
    sum += __ldg(dy + (std::int64_t(image) * channels + c) * pixels + p);
  }
  sum = block_sum(sum, scratch);
  if (threadIdx.x != 0) return;
  if (gridDim.x == 1)
    db[c] += sum;
  else
    partials[std::int64_t(part) * channels + c] = sum;
}

template <class GemmTile, class Problem>
void launch_conv_gemm(const Problem& problem, std::int64_t max_rows, int channels, int phases,
                      const float* bias, const Activation& epilogue, float* out,
                      cudaStream_t stream) {
  const std::int64_t row_blocks = ceil_div64(max_rows, GemmTile::bm);
  const std::int64_t channel_blocks = ceil_div64(channels, GemmTile::bn);
  require(row_blocks <= max_grid_x, "too many output pixels for one launch");
  require(channel_blocks <= max_grid_yz, "too many channels for one launch");
  require(phases <= max_grid_yz, "stride too large (stride^2 must be at most 65535)");
  const dim3 grid(static_cast<unsigned int>(row_blocks), static_cast<unsigned int>(channel_blocks),
                  static_cast<unsigned int>(phases));
  launch({grid, GemmTile::threads, stream}, conv::conv_gemm_kernel<GemmTile, Problem>, problem,
         bias, epilogue, out, conv::KSplit{});
}

// The split_k_small_grids variant's forward and backward_data where the unsplit grid leaves the
// GPU short of blocks. Few channels (N <= 4, e.g. G.to_image's 64 -> 1 forward: 50,176 rows of
// K = 3,136 at batch 64): the unsplit tile fills 196 blocks, under two a multiprocessor, and each
// thread walks all of K alone: on an H200 18.8% occupancy and 608 us against cuDNN's 83
// (bench/results/2026-12-04-6f1563c-NVIDIA-H200, ncu). Splitting K until there are about
// few_split_target_blocks blocks gives each SM ~8 blocks to switch between while gathers are in
// flight (bench/TUNING.md, prediction 11). Wider products on the 64 x 64 tile, e.g. G.deconv1's
// backward_data at batch 64 (3,136 rows x 128 columns, K = 2,048: 98 blocks, 12.5% occupancy,
// 194 us against cuDNN's 125), split until about wide_split_target_blocks: three (backward_data,
// 80 registers a thread) or four (forward, 62) of those blocks fit an SM (ncu, same run), so
// three an SM of an H200's 132 is at most one wave for either (prediction 14). Each part sums at
// least min_slices_per_split slices; the parts are added in a fixed order by a second pass, which
// applies the bias and activation.
constexpr std::int64_t few_split_target_blocks = 1056;
constexpr std::int64_t wide_split_target_blocks = 396;

// Where a product's outputs lie: `size` floats, NCHW with `pixels` floats a channel plane, so the
// finishing pass can find each output's bias.
struct OutputLayout {
  std::int64_t size = 0;
  std::int64_t pixels = 0;
};

// out[e] = act(bias[c] + sum_z partials[z][e]) with z in increasing order and c = (e / pixels)
// mod channels, e's channel in NCHW: the second pass of a split forward or backward_data product.
__global__ void finish_split_kernel(std::int64_t size, int splits,
                                    const float* __restrict__ partials, std::int64_t pixels,
                                    int channels, const float* __restrict__ bias,
                                    const Activation epilogue, float* __restrict__ out) {
  for (std::int64_t e = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; e < size;
       e += std::int64_t(gridDim.x) * blockDim.x) {
    float sum = sum_of_parts(partials, size, splits, e);
    if (bias) sum += __ldg(bias + (e / pixels) % channels);
    out[e] = activation_apply(epilogue, sum);
  }
}

template <class GemmTile, class Problem>
void launch_split_conv_gemm(const Problem& problem, std::int64_t max_rows, std::int64_t max_k,
                            int channels, int phases, const OutputLayout& layout, const float* bias,
                            const Activation& epilogue, float* out, std::int64_t target_blocks,
                            cudaStream_t stream) {
  const std::int64_t row_blocks = ceil_div64(max_rows, GemmTile::bm);
  const std::int64_t channel_blocks = ceil_div64(channels, GemmTile::bn);
  const KPartition part =
      partition_k(max_k, GemmTile::bk, row_blocks * channel_blocks * phases, target_blocks);
  if (part.splits == 1)
    return launch_conv_gemm<GemmTile>(problem, max_rows, channels, phases, bias, epilogue, out,
                                      stream);
  const int splits = part.splits;
  require(row_blocks <= max_grid_x, "too many output pixels for one launch");
  require(std::int64_t(phases) * splits <= max_grid_yz, "too many phases for one launch");
  const StreamScratch<float> partials(static_cast<std::size_t>(splits * layout.size), stream);
  const conv::KSplit split{splits, static_cast<int>(part.k_per_split), partials.get(), layout.size};
  const dim3 grid(static_cast<unsigned int>(row_blocks), static_cast<unsigned int>(channel_blocks),
                  static_cast<unsigned int>(phases * splits));
  launch({grid, GemmTile::threads, stream}, conv::conv_gemm_kernel<GemmTile, Problem>, problem,
         bias, epilogue, out, split);
  launch({elementwise_blocks(layout.size, reduction_threads), reduction_threads, stream},
         finish_split_kernel, layout.size, splits, partials.get(), layout.pixels, channels, bias,
         epilogue, out);
}

template <Fragments F, class Problem>
void run_conv_gemm(const Problem& problem, std::int64_t max_rows, int channels, int phases,
                   const float* bias, const Activation& epilogue, float* out, cudaStream_t stream) {
  if (channels > 32)
    launch_conv_gemm<typename Tiles<F>::wide>(problem, max_rows, channels, phases, bias, epilogue,
                                              out, stream);
  else if (channels > 4)
    launch_conv_gemm<typename Tiles<F>::narrow>(problem, max_rows, channels, phases, bias, epilogue,
                                                out, stream);
  else
    launch_conv_gemm<typename Tiles<F>::few>(problem, max_rows, channels, phases, bias, epilogue,
                                             out, stream);
}

// WideTile for products of more than 32 channels whose K spans more than one slice of it, the
// strided tiles for every other: the measured_tiles, large_thread_tiles and double_buffered_slices
// variants.
template <class WideTile, class Problem>
void run_conv_gemm_wide(const Problem& problem, std::int64_t max_rows, std::int64_t max_k,
                        int channels, int phases, const float* bias, const Activation& epilogue,
                        float* out, cudaStream_t stream) {
  if (channels > 32 && max_k > WideTile::bk)
    return launch_conv_gemm<WideTile>(problem, max_rows, channels, phases, bias, epilogue, out,
                                      stream);
  run_conv_gemm<Fragments::strided>(problem, max_rows, channels, phases, bias, epilogue, out,
                                    stream);
}

// max_k: the longest K of the phases; layout: where the outputs lie (for the split variant).
template <class Problem>
void run_conv_gemm(ConvVariant variant, const Problem& problem, std::int64_t max_rows,
                   std::int64_t max_k, int channels, int phases, const OutputLayout& layout,
                   const float* bias, const Activation& epilogue, float* out, cudaStream_t stream) {
  if (max_rows == 0 || channels == 0) return; // an empty batch: nothing to write
  switch (variant) {
  case ConvVariant::measured_tiles:
    return run_conv_gemm_wide<Tiles<Fragments::contiguous_paired_lanes>::wide>(
        problem, max_rows, max_k, channels, phases, bias, epilogue, out, stream);
  case ConvVariant::strided_fragments:
    return run_conv_gemm<Fragments::strided>(problem, max_rows, channels, phases, bias, epilogue,
                                             out, stream);
  case ConvVariant::large_thread_tiles:
    return run_conv_gemm_wide<LargeThreadTile>(problem, max_rows, max_k, channels, phases, bias,
                                               epilogue, out, stream);
  case ConvVariant::double_buffered_slices:
    return run_conv_gemm_wide<DoubleBufferedTile>(problem, max_rows, max_k, channels, phases, bias,
                                                  epilogue, out, stream);
  case ConvVariant::contiguous_fragments_paired_lanes:
    return run_conv_gemm<Fragments::contiguous_paired_lanes>(problem, max_rows, channels, phases,
                                                             bias, epilogue, out, stream);
  case ConvVariant::one_column_tiles:
    if (channels == 1)
      return launch_conv_gemm<OneColumnTile>(problem, max_rows, channels, phases, bias, epilogue,
                                             out, stream);
    return run_conv_gemm<Fragments::strided>(problem, max_rows, channels, phases, bias, epilogue,
                                             out, stream);
  case ConvVariant::split_k_small_grids:
    if (channels == 1)
      return launch_split_conv_gemm<OneColumnTile>(problem, max_rows, max_k, channels, phases,
                                                   layout, bias, epilogue, out,
                                                   few_split_target_blocks, stream);
    if (channels <= 4)
      return launch_split_conv_gemm<Tiles<Fragments::strided>::few>(
          problem, max_rows, max_k, channels, phases, layout, bias, epilogue, out,
          few_split_target_blocks, stream);
    if (channels <= 32)
      return launch_split_conv_gemm<Tiles<Fragments::strided>::narrow>(
          problem, max_rows, max_k, channels, phases, layout, bias, epilogue, out,
          wide_split_target_blocks, stream);
    return launch_split_conv_gemm<Tiles<Fragments::strided>::wide>(
        problem, max_rows, max_k, channels, phases, layout, bias, epilogue, out,
        wide_split_target_blocks, stream);
  case ConvVariant::direct_few_channels: // its forward is conv2d_forward's direct path
    return run_conv_gemm<Fragments::strided>(problem, max_rows, channels, phases, bias, epilogue,
                                             out, stream);
  case ConvVariant::tf32_tensor_cores:
    return run_conv_gemm<Fragments::tf32_tensor_cores>(problem, max_rows, channels, phases, bias,
                                                       epilogue, out, stream);
  }
  require(false, "unknown kernel variant");
}

// target_blocks: how many blocks the split of K aims at (weight_grad_target_blocks, or the
// split_k_small_grids variant's few_split_target_blocks for one-row products).
template <class GemmTile>
void launch_weight_grad(const conv::WeightGradProblem& p, float* dw, cudaStream_t stream,
                        std::int64_t target_blocks = weight_grad_target_blocks) {
  const std::int64_t col_blocks = ceil_div64(p.cols, GemmTile::bn);
  const std::int64_t row_blocks = ceil_div64(p.rows, GemmTile::bm);
  require(col_blocks <= max_grid_x && row_blocks <= max_grid_yz, "weight too large for one launch");
  const KPartition part =
      partition_k(p.k_size, GemmTile::bk, col_blocks * row_blocks, target_blocks);
  const int k_per_split = static_cast<int>(part.k_per_split);
  const int splits = part.splits;
  const dim3 grid(static_cast<unsigned int>(col_blocks), static_cast<unsigned int>(row_blocks),
                  static_cast<unsigned int>(splits));
  if (splits == 1) {
    launch({grid, GemmTile::threads, stream}, conv::weight_grad_kernel<GemmTile>, p, k_per_split,
           dw, nullptr);
    return;
  }
  // Each split writes its own slice of the workspace; sum_partials_kernel adds them in split order.
  const std::int64_t size = std::int64_t(p.rows) * p.cols;
  const StreamScratch<float> partials(static_cast<std::size_t>(splits * size), stream);
  launch({grid, GemmTile::threads, stream}, conv::weight_grad_kernel<GemmTile>, p, k_per_split, dw,
         partials.get());
  launch({elementwise_blocks(size, reduction_threads), reduction_threads, stream},
         sum_partials_kernel, size, splits, partials.get(), dw);
}

template <Fragments F>
void run_weight_grad(const conv::WeightGradProblem& p, float* dw, cudaStream_t stream) {
  if (p.rows > 32)
    launch_weight_grad<typename Tiles<F>::weight>(p, dw, stream);
  else if (p.rows > 4)
    launch_weight_grad<typename Tiles<F>::narrow_weight>(p, dw, stream);
  else
    launch_weight_grad<typename Tiles<F>::few_weight>(p, dw, stream);
}

// WeightTile for more than 32 rows, the strided tiles for fewer: the measured_tiles,
// large_thread_tiles and double_buffered_slices variants.
template <class WeightTile>
void run_weight_grad_wide(const conv::WeightGradProblem& p, float* dw, cudaStream_t stream) {
  if (p.rows > 32) return launch_weight_grad<WeightTile>(p, dw, stream);
  run_weight_grad<Fragments::strided>(p, dw, stream);
}

conv::ForwardProblem forward_problem(const Conv2dShape& s, const float* x, const float* w) {
  conv::ForwardProblem p;
  p.x = x;
  p.w = w;
  p.c_in = s.c_in;
  p.h_in = s.h_in;
  p.w_in = s.w_in;
  p.w_out = s.w_out;
  p.stride = s.stride;
  p.pad_top = s.pad_top;
  p.pad_left = s.pad_left;
  p.channels = s.c_out;
  p.k_size = s.c_in * s.kh * s.kw;
  p.pixels = std::int64_t(s.h_out) * s.w_out;
  p.rows = s.n * p.pixels;
  p.taps = FastDivmod(s.kh * s.kw);
  p.tap_cols = FastDivmod(s.kw);
  return p;
}

// f(std::integral_constant<int, C>{}) for C = channels, 1 to 4: the direct kernels' template
// argument.
template <class F> void with_few_channels(int channels, F&& f) {
  switch (channels) {
  case 1:
    return f(std::integral_constant<int, 1>{});
  case 2:
    return f(std::integral_constant<int, 2>{});
  case 3:
    return f(std::integral_constant<int, 3>{});
  default:
    return f(std::integral_constant<int, 4>{});
  }
}

// The direct kernels' geometry (kernels/cuda/conv_direct.cuh) for s, with as many input channels
// a chunk as the patch budget and max_chunk allow; false where c_out is not 1 to 4, there is no
// input channel or not even one fits, and the caller runs the default.
bool direct_geometry(const Conv2dShape& s, std::int64_t max_chunk, conv::DirectGeometry& g) {
  using conv::DirectTile;
  const int patch_rows = (DirectTile::rows - 1) * s.stride + s.kh;
  const int patch_cols = (DirectTile::cols - 1) * s.stride + s.kw;
  const std::int64_t patch_size = std::int64_t(patch_rows) * patch_cols;
  if (s.c_out < 1 || s.c_out > DirectTile::max_channels || s.c_in < 1 ||
      patch_size > DirectTile::patch_floats || max_chunk < 1)
    return false;
  static_cast<Conv2dShape&>(g) = s;
  g.tiles_w = static_cast<int>(ceil_div64(s.w_out, DirectTile::cols));
  g.chunk = static_cast<int>(std::min<std::int64_t>(
      {std::int64_t(s.c_in), DirectTile::patch_floats / patch_size, max_chunk}));
  g.patch_size = FastDivmod(static_cast<int>(patch_size));
  g.patch_cols = FastDivmod(patch_cols);
  return true;
}

std::int64_t direct_tiles(const Conv2dShape& s) {
  return ceil_div64(s.h_out, conv::DirectTile::rows) * ceil_div64(s.w_out, conv::DirectTile::cols);
}

// The direct_few_channels variant's forward for c_out <= 4, any stride and padding, where the
// direct geometry fits and the c_out kh kw weights of one input channel fit the weight budget,
// and the batch fits the grid's y; false where not. The chunk: as many input channels as both
// budgets allow.
bool try_direct_forward(const Conv2dShape& s, const float* x, const float* w, const float* b,
                        float* y, const Activation& epilogue, cudaStream_t stream) {
  using conv::DirectTile;
  const std::int64_t weights = std::int64_t(s.c_out) * s.kh * s.kw;
  conv::DirectForwardProblem p;
  if (s.n > max_grid_yz || !direct_geometry(s, DirectTile::weight_floats / weights, p.g))
    return false;
  if (s.n == 0 || s.h_out == 0 || s.w_out == 0) return true; // nothing to write
  p.x = x;
  p.w = w;
  p.chunk_weights = FastDivmod(p.g.chunk * s.kh * s.kw);
  const std::int64_t tiles = direct_tiles(s);
  require(tiles <= max_grid_x, "too many output tiles for one launch");
  const dim3 grid(static_cast<unsigned int>(tiles), static_cast<unsigned int>(s.n));
  with_few_channels(s.c_out, [&](auto channels) {
    launch({grid, DirectTile::threads, stream},
           conv::conv_direct_forward_kernel<decltype(channels)::value>, p, b, epilogue, y);
  });
  return true;
}

// The direct backward_weight's grid aims at about this many blocks (four for each of an H200's
// 132 SMs): the images are grouped so that tiles x chunks x groups come near it, since every
// group adds a part (tiles x groups parts of c_out c_in kh kw floats) for the second pass to sum.
constexpr std::int64_t direct_weight_grad_target_blocks = 528;
// Partial sums beyond this many floats (256 MB) run the default instead.
constexpr std::int64_t direct_weight_grad_max_partials = std::int64_t(1) << 26;

// The direct_few_channels variant's backward_weight (conv_direct.cuh) for c_out <= 4, where the
// direct geometry fits with a chunk's kh kw weights at most direct_weights_a_thread a thread;
// false where not. dw += the sum, in a fixed order.
bool try_direct_backward_weight(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                cudaStream_t stream) {
  using conv::DirectTile;
  const std::int64_t taps = std::int64_t(s.kh) * s.kw;
  conv::DirectWeightGradProblem p;
  if (!direct_geometry(s, conv::direct_weights_a_thread * DirectTile::threads / taps, p.g))
    return false;
  const std::int64_t tiles = direct_tiles(s);
  const std::int64_t chunks = ceil_div64(s.c_in, p.g.chunk);
  if (tiles == 0) return true; // no output pixels: nothing to add
  const std::int64_t wanted_groups =
      std::max<std::int64_t>(1, direct_weight_grad_target_blocks / (tiles * chunks));
  const std::int64_t images_per_block = ceil_div64(s.n, wanted_groups);
  const std::int64_t groups = ceil_div64(s.n, images_per_block);
  const std::int64_t size = s.c_out * std::int64_t(s.c_in) * taps;
  const std::int64_t parts = tiles * groups;
  if (tiles > max_grid_x || chunks > max_grid_yz || parts * size > direct_weight_grad_max_partials)
    return false;
  p.x = x;
  p.dy = dy;
  p.images_per_block = static_cast<int>(images_per_block);
  const StreamScratch<float> partials(static_cast<std::size_t>(parts * size), stream);
  const dim3 grid(static_cast<unsigned int>(tiles), static_cast<unsigned int>(chunks),
                  static_cast<unsigned int>(groups));
  with_few_channels(s.c_out, [&](auto channels) {
    launch({grid, DirectTile::threads, stream},
           conv::conv_direct_backward_weight_kernel<decltype(channels)::value>, p, partials.get());
  });
  launch({elementwise_blocks(size, reduction_threads), reduction_threads, stream},
         sum_partials_kernel, size, static_cast<int>(parts), partials.get(), dw);
  return true;
}

conv::BackwardDataProblem backward_data_problem(const Conv2dShape& s, const float* dy,
                                                const float* w) {
  conv::BackwardDataProblem p;
  p.dy = dy;
  p.w = w;
  p.images = s.n;
  p.c_in = s.c_in;
  p.h_in = s.h_in;
  p.w_in = s.w_in;
  p.c_out = s.c_out;
  p.h_out = s.h_out;
  p.w_out = s.w_out;
  p.kh = s.kh;
  p.kw = s.kw;
  p.stride = s.stride;
  p.pad_top = s.pad_top;
  p.pad_left = s.pad_left;
  return p;
}

conv::WeightGradProblem weight_grad_problem(const Conv2dShape& s, const float* x, const float* dy) {
  const std::int64_t k_size = std::int64_t(s.n) * s.h_out * s.w_out;
  // k0 + k_per_split must not overflow an int.
  require(k_size <= (std::int64_t(1) << 30), "n h_out w_out must be at most 2^30");
  conv::WeightGradProblem p;
  p.x = x;
  p.dy = dy;
  p.c_in = s.c_in;
  p.h_in = s.h_in;
  p.w_in = s.w_in;
  p.c_out = s.c_out;
  p.stride = s.stride;
  p.pad_top = s.pad_top;
  p.pad_left = s.pad_left;
  p.rows = s.c_out;
  p.cols = s.c_in * s.kh * s.kw;
  p.k_size = static_cast<int>(k_size);
  p.pixels = s.h_out * s.w_out;
  p.image_pixels = FastDivmod(p.pixels);
  p.pixel_cols = FastDivmod(s.w_out);
  p.taps = FastDivmod(s.kh * s.kw);
  p.tap_cols = FastDivmod(s.kw);
  return p;
}

} // namespace

void conv2d_forward(ConvVariant variant, const Conv2dShape& s, const float* x, const float* w,
                    const float* b, float* y, const Activation& epilogue, cudaStream_t stream) {
  if (variant == ConvVariant::direct_few_channels &&
      try_direct_forward(s, x, w, b, y, epilogue, stream))
    return;
  const conv::ForwardProblem p = forward_problem(s, x, w);
  run_conv_gemm(variant, p, p.rows, p.k_size, s.c_out, 1, {p.rows * s.c_out, p.pixels}, b, epilogue,
                y, stream);
}

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* b, float* y,
                    const Activation& epilogue, cudaStream_t stream) {
  conv2d_forward(default_conv_variant, s, x, w, b, y, epilogue, stream);
}

void conv2d_backward_data_epilogue(ConvVariant variant, const Conv2dShape& s, const float* dy,
                                   const float* w, const float* bias, const Activation& epilogue,
                                   float* dx, cudaStream_t stream) {
  // The largest phase has ceil(h_in / s) rows and ceil(w_in / s) columns per image.
  const std::int64_t max_rows =
      std::int64_t(s.n) * ceil_div64(s.h_in, s.stride) * ceil_div64(s.w_in, s.stride);
  require(s.stride <= 255, "stride must be at most 255");
  // Phase 0 has the most taps: ceil(kh / s) x ceil(kw / s) of them for each output channel.
  const std::int64_t max_k =
      std::int64_t(s.c_out) * ceil_div64(s.kh, s.stride) * ceil_div64(s.kw, s.stride);
  const std::int64_t pixels = std::int64_t(s.h_in) * s.w_in;
  run_conv_gemm(variant, backward_data_problem(s, dy, w), max_rows, max_k, s.c_in,
                s.stride * s.stride, {std::int64_t(s.n) * s.c_in * pixels, pixels}, bias, epilogue,
                dx, stream);
}

void conv2d_backward_data(ConvVariant variant, const Conv2dShape& s, const float* dy,
                          const float* w, float* dx, cudaStream_t stream) {
  conv2d_backward_data_epilogue(variant, s, dy, w, nullptr, Activation::identity(), dx, stream);
}

void conv2d_backward_data(const Conv2dShape& s, const float* dy, const float* w, float* dx,
                          cudaStream_t stream) {
  conv2d_backward_data(default_conv_variant, s, dy, w, dx, stream);
}

void conv2d_backward_weight(ConvVariant variant, const Conv2dShape& s, const float* x,
                            const float* dy, float* dw, cudaStream_t stream) {
  if (s.n == 0) return; // an empty batch adds nothing (and would leave the split size zero)
  const conv::WeightGradProblem p = weight_grad_problem(s, x, dy);
  switch (variant) {
  case ConvVariant::measured_tiles:
    return run_weight_grad_wide<Tiles<Fragments::contiguous_paired_lanes>::weight>(p, dw, stream);
  case ConvVariant::strided_fragments:
    return run_weight_grad<Fragments::strided>(p, dw, stream);
  case ConvVariant::large_thread_tiles:
    return run_weight_grad_wide<LargeThreadWeightTile>(p, dw, stream);
  case ConvVariant::double_buffered_slices:
    return run_weight_grad_wide<DoubleBufferedWeightTile>(p, dw, stream);
  case ConvVariant::contiguous_fragments_paired_lanes:
    return run_weight_grad<Fragments::contiguous_paired_lanes>(p, dw, stream);
  case ConvVariant::one_column_tiles:
    if (p.rows == 1) return launch_weight_grad<OneRowWeightTile>(p, dw, stream);
    return run_weight_grad<Fragments::strided>(p, dw, stream);
  case ConvVariant::split_k_small_grids:
    if (p.rows == 1)
      return launch_weight_grad<OneRowWeightTile>(p, dw, stream, few_split_target_blocks);
    return run_weight_grad<Fragments::strided>(p, dw, stream);
  case ConvVariant::direct_few_channels:
    if (try_direct_backward_weight(s, x, dy, dw, stream)) return;
    return run_weight_grad<Fragments::strided>(p, dw, stream);
  case ConvVariant::tf32_tensor_cores:
    return run_weight_grad<Fragments::tf32_tensor_cores>(p, dw, stream);
  }
  require(false, "unknown kernel variant");
}

void conv2d_backward_weight(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                            cudaStream_t stream) {
  conv2d_backward_weight(default_conv_variant, s, x, dy, dw, stream);
}

void channel_sum_accumulate(int images, int channels, std::int64_t pixels, const float* dy,
                            float* db, cudaStream_t stream) {
  const std::int64_t per_channel = images * pixels;
  require(per_channel <= std::int64_t(2147483647) - channel_sum_share,
          "more than 2^31 - 2^11 values per channel");
  if (channels == 0 || per_channel == 0) return;
  require(channels <= max_grid_yz, "more than 65535 channels");
  const std::int64_t parts = ceil_div64(per_channel, channel_sum_share);
  const dim3 grid(static_cast<unsigned int>(parts), static_cast<unsigned int>(channels));
  const FastDivmod image_pixels(static_cast<int>(pixels));
  if (parts == 1) {
    launch({grid, reduction_threads, stream}, channel_sum_kernel, channels,
           static_cast<int>(per_channel), image_pixels, dy, nullptr, db);
    return;
  }
  const StreamScratch<float> partials(static_cast<std::size_t>(parts * channels), stream);
  launch({grid, reduction_threads, stream}, channel_sum_kernel, channels,
         static_cast<int>(per_channel), image_pixels, dy, partials.get(), db);
  launch({elementwise_blocks(channels, reduction_threads), reduction_threads, stream},
         sum_partials_kernel, std::int64_t(channels), static_cast<int>(parts), partials.get(), db);
}

void conv2d_backward_bias(const Conv2dShape& s, const float* dy, float* db, cudaStream_t stream) {
  channel_sum_accumulate(s.n, s.c_out, std::int64_t(s.h_out) * s.w_out, dy, db, stream);
}

} // namespace sgan::cuda
