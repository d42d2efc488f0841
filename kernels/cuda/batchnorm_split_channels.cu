// Batch normalisation with each channel's values split between blocks (the split_channels
// variant, batchnorm_variants.h). The one-block-per-channel kernels (batchnorm.cu) put a layer's
// whole pass on c blocks: 64 of an H100's 132 SMs for article G's last batchnorm, each with 512
// threads and one load in flight a thread, a few percent of the memory bandwidth (bench/TUNING.md,
// prediction 6). Here a pass is two launches over (splits x channels) blocks of 256 threads:
//
//   partials:  block (z, ch) sums its share of channel ch's values into partials[z][ch];
//   apply:     block (z, ch) adds partials[0..splits)[ch] in split order, then normalises (or
//              writes dx for) its share; the blocks of split 0 write the per-channel outputs.
//
// Every block of a channel adds the same partials in the same order, so all get the same bits,
// and so does every run (no atomics). The sums are of values shifted by the channel's first value
// K, in double, as in batchnorm.cu: mean = K + S1 / m, var = S2 / m - (S1 / m)^2.
//
// Which values a block visits depends on the layout:
// * planar (spatial > 1, [n, c, spatial]): a block per (split, channel), its threads walking the
//   split's share of the channel's m = n spatial values in order, runs of `spatial` adjacent
//   floats;
// * interleaved (spatial = 1, BatchNorm1d's [n, c]): a channel's values are c floats apart, so a
//   block takes 32 adjacent channels (one a lane) and its warps walk the split's rows: each warp
//   load is 32 adjacent floats of one row.
#include "kernels/cuda/batchnorm_split_channels.h"
#include "kernels/cuda/common.cuh"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace sgan::cuda::split_channels {
namespace {

constexpr int threads = 256;
constexpr int warps = threads / warp_size;
// A split is about this many values a thread (rows a warp, interleaved), and a channel has at
// most max_splits of them: 4096 blocks for a 128 MiB BatchNorm2d of 64 channels, each thread
// with enough independent loads to keep the memory busy.
constexpr std::uint32_t values_per_thread = 16;
constexpr int max_splits = 64;
constexpr std::int64_t max_grid_y = 65535;

// The two sums a channel's pass needs: forward sum (x - K) and sum (x - K)^2, backward sum dy and
// sum dy xhat.
struct ChannelSums {
  double first = 0, second = 0;
};

struct Split {
  BatchNormShape shape;
  FastDivmod spatial;      // j -> (sample, position) for planar
  int splits = 1;          // blocks a channel (a group of 32 channels, interleaved)
  std::uint32_t share = 1; // values (planar) or rows (interleaved) a split covers
};

// The indices a thread walks, first, first + step, ... below end; Values::offset maps each to
// the value's offset in x.
struct Walk {
  std::uint32_t first, end, step;
};

struct PlanarValues {
  static constexpr int channels_per_block = 1;
  __device__ static int first_channel() { return int(blockIdx.y); }
  __device__ static int slot() { return 0; } // the thread's channel, from first_channel()
  __device__ static bool leads() { return threadIdx.x == 0; }

  // The split's share of the channel's values j = i spatial + k, in order.
  __device__ static Walk walk(const Split& p) {
    const std::uint32_t m = std::uint32_t(p.shape.n) * std::uint32_t(p.shape.spatial);
    const std::uint32_t begin = blockIdx.x * p.share;
    return {begin + threadIdx.x, min(begin + p.share, m), std::uint32_t(threads)};
  }
  // Value j of the channel, sample i at position k: (i c + ch) spatial + k.
  __device__ static std::int64_t offset(const Split& p, std::uint32_t j) {
    int i, k;
    p.spatial.divmod(int(j), i, k);
    return (std::int64_t(i) * p.shape.c + blockIdx.y) * p.shape.spatial + k;
  }

  // The block's total of its threads' sums, valid in the thread that leads().
  __device__ static ChannelSums total(ChannelSums t) {
    __shared__ double scratch[warp_size];
    t.first = block_sum(t.first, scratch);
    t.second = block_sum(t.second, scratch);
    return t;
  }
};

struct InterleavedValues {
  static constexpr int channels_per_block = warp_size;
  __device__ static int first_channel() { return int(blockIdx.y) * warp_size; }
  __device__ static int slot() { return int(threadIdx.x) % warp_size; }
  __device__ static bool leads() { return threadIdx.x < warp_size; }

  // The split's rows, one warp's in every `warps`; none for a lane past the last channel.
  __device__ static Walk walk(const Split& p) {
    const std::uint32_t begin = blockIdx.x * p.share;
    const std::uint32_t first = begin + threadIdx.x / warp_size;
    const bool real = first_channel() + slot() < p.shape.c;
    return {first, real ? min(begin + p.share, std::uint32_t(p.shape.n)) : first,
            std::uint32_t(warps)};
  }
  // Row i of the thread's channel: i c + ch.
  __device__ static std::int64_t offset(const Split& p, std::uint32_t i) {
    return std::int64_t(i) * p.shape.c + first_channel() + slot();
  }

  // Each channel's total over the block's warps, added in warp order, valid in warp 0.
  __device__ static ChannelSums total(ChannelSums t) {
    __shared__ ChannelSums by_warp[warps][warp_size];
    by_warp[threadIdx.x / warp_size][slot()] = t;
    __syncthreads();
    if (threadIdx.x < warp_size) {
      t = by_warp[0][slot()];
      for (int w = 1; w < warps; ++w) {
        t.first += by_warp[w][slot()].first;
        t.second += by_warp[w][slot()].second;
      }
    }
    return t;
  }
};

// The thread's channel (first_channel() + slot(), possibly past c for an interleaved block's
// last lanes, which then visit nothing).
template <class Values> __device__ int thread_channel() {
  return Values::first_channel() + Values::slot();
}

// use(at, load(at)) for each value the thread walks, in walk order. The values go in groups of
// 4 whose loads are all issued before the first use: a loop of one load and its use (or one the
// compiler unrolls with an exit test after each use) has one load in flight a thread, and 2048
// threads an SM with 4 bytes each in flight are a third of what the memory's latency times its
// bandwidth asks for (bench/TUNING.md, prediction 6). Writes to `at` inside use() see no later
// load of the group at the same offset: the offsets of a walk are distinct.
template <class Values, class Load, class Use>
__device__ void for_each_value(const Split& p, Load load, Use use) {
  constexpr std::uint32_t group = 4;
  const Walk w = Values::walk(p);
  std::uint32_t index = w.first;
  for (; index + (group - 1) * w.step < w.end; index += group * w.step) {
    std::int64_t at[group];
#pragma unroll
    for (std::uint32_t u = 0; u < group; ++u) at[u] = Values::offset(p, index + u * w.step);
    decltype(load(at[0])) loaded[group];
#pragma unroll
    for (std::uint32_t u = 0; u < group; ++u) loaded[u] = load(at[u]);
#pragma unroll
    for (std::uint32_t u = 0; u < group; ++u) use(at[u], loaded[u]);
  }
  for (; index < w.end; index += w.step) {
    const std::int64_t at = Values::offset(p, index);
    use(at, load(at));
  }
}

// x and dy at one offset, for the backward passes.
struct InputAndGradient {
  float x, dy;
};

// The channel's totals over all splits, partials[z][ch] added in z order by one thread per
// channel of the block and handed to the others through shared memory. Every thread calls it.
template <class Values>
__device__ ChannelSums channel_totals(const Split& p, const ChannelSums* partials) {
  __shared__ ChannelSums totals[Values::channels_per_block];
  if (threadIdx.x < Values::channels_per_block) {
    const int ch = Values::first_channel() + int(threadIdx.x);
    ChannelSums t;
    if (ch < p.shape.c)
      for (int z = 0; z < p.splits; ++z) {
        t.first += partials[std::int64_t(z) * p.shape.c + ch].first;
        t.second += partials[std::int64_t(z) * p.shape.c + ch].second;
      }
    totals[threadIdx.x] = t;
  }
  __syncthreads();
  return totals[Values::slot()];
}

template <class Values>
__global__ void statistics_partials_kernel(Split p, const float* __restrict__ x,
                                           ChannelSums* __restrict__ partials) {
  const int ch = thread_channel<Values>();
  const bool real = ch < p.shape.c;
  const double shift = real ? x[std::int64_t(ch) * p.shape.spatial] : 0.0; // K: value j = 0
  ChannelSums t;
  for_each_value<Values>(
      p, [&](std::int64_t at) { return x[at]; },
      [&](std::int64_t, float value) {
        const double d = double(value) - shift;
        t.first += d;
        t.second += d * d;
      });
  t = Values::total(t);
  if (Values::leads() && real) partials[std::int64_t(blockIdx.x) * p.shape.c + ch] = t;
}

template <class Values>
__global__ void normalize_kernel(Split p, BatchNormHyper hyper, Activation epilogue,
                                 const float* __restrict__ x, const float* __restrict__ gamma,
                                 const float* __restrict__ beta, float* __restrict__ y,
                                 float* running_mean, float* running_var, float* saved_mean,
                                 float* saved_invstd, const ChannelSums* __restrict__ partials) {
  const ChannelSums t = channel_totals<Values>(p, partials);
  const int ch = thread_channel<Values>();
  if (ch >= p.shape.c) return;
  const double m = double(p.shape.n) * p.shape.spatial;
  const double shift = x[std::int64_t(ch) * p.shape.spatial];
  const double shifted_mean = t.first / m;
  const double var = fmax(t.second / m - shifted_mean * shifted_mean, 0.0);
  const double mean = shift + shifted_mean;
  const double invstd = 1.0 / sqrt(var + double(hyper.eps));

  if (blockIdx.x == 0 && Values::leads()) {
    const double momentum = hyper.momentum;
    running_mean[ch] = float((1 - momentum) * double(running_mean[ch]) + momentum * mean);
    if (m > 1)
      running_var[ch] =
          float((1 - momentum) * double(running_var[ch]) + momentum * var * m / (m - 1));
    saved_mean[ch] = float(mean);
    saved_invstd[ch] = float(invstd);
  }

  // Centred in double, as in batchnorm.cu.
  const double scale = double(gamma[ch]) * invstd;
  const float bias = beta[ch];
  for_each_value<Values>(
      p, [&](std::int64_t at) { return x[at]; },
      [&](std::int64_t at, float value) {
        y[at] = activation_apply(epilogue, float((double(value) - mean) * scale) + bias);
      });
}

// The same float formula as batchnorm.cu's eval kernel, with the channel fixed per thread instead
// of decoded per element.
template <class Values>
__global__ void eval_kernel(Split p, BatchNormHyper hyper, Activation epilogue,
                            const float* __restrict__ x, const float* __restrict__ gamma,
                            const float* __restrict__ beta, const float* __restrict__ running_mean,
                            const float* __restrict__ running_var, float* __restrict__ y) {
  const int ch = thread_channel<Values>();
  if (ch >= p.shape.c) return;
  const float scale = gamma[ch] / sqrtf(running_var[ch] + hyper.eps);
  const float mean = running_mean[ch], bias = beta[ch];
  for_each_value<Values>(
      p, [&](std::int64_t at) { return x[at]; },
      [&](std::int64_t at, float value) {
        y[at] = activation_apply(epilogue, (value - mean) * scale + bias);
      });
}

template <class Values>
__global__ void backward_partials_kernel(Split p, const float* __restrict__ x, const float* dy,
                                         const float* __restrict__ saved_mean,
                                         const float* __restrict__ saved_invstd,
                                         ChannelSums* __restrict__ partials) {
  const int ch = thread_channel<Values>();
  const bool real = ch < p.shape.c;
  const float mean = real ? saved_mean[ch] : 0.0f, invstd = real ? saved_invstd[ch] : 0.0f;
  ChannelSums t;
  for_each_value<Values>(
      p,
      [&](std::int64_t at) {
        return InputAndGradient{x[at], dy[at]};
      },
      [&](std::int64_t, InputAndGradient v) {
        const double g = v.dy;
        t.first += g;
        t.second += g * ((double(v.x) - mean) * invstd);
      });
  t = Values::total(t);
  if (Values::leads() && real) partials[std::int64_t(blockIdx.x) * p.shape.c + ch] = t;
}

// dx = gamma invstd (dy - sum dy / m - xhat sum dy xhat / m); dx may alias dy (each thread reads
// dy[at] before it writes dx[at], and the partials were summed by the previous launch).
template <class Values>
__global__ void
backward_data_kernel(Split p, const float* __restrict__ x, const float* dy,
                     const float* __restrict__ gamma, const float* __restrict__ saved_mean,
                     const float* __restrict__ saved_invstd, float* dx, float* dgamma, float* dbeta,
                     const ChannelSums* __restrict__ partials) {
  const ChannelSums t = channel_totals<Values>(p, partials);
  const int ch = thread_channel<Values>();
  if (ch >= p.shape.c) return;
  if (blockIdx.x == 0 && Values::leads()) {
    dbeta[ch] = float(double(dbeta[ch]) + t.first);
    dgamma[ch] = float(double(dgamma[ch]) + t.second);
  }
  const double m = double(p.shape.n) * p.shape.spatial;
  const float mean = saved_mean[ch], invstd = saved_invstd[ch];
  const float scale = gamma[ch] * invstd;
  const float mean_dy = float(t.first / m), mean_dy_xhat = float(t.second / m);
  for_each_value<Values>(
      p,
      [&](std::int64_t at) {
        return InputAndGradient{x[at], dy[at]};
      },
      [&](std::int64_t at, InputAndGradient v) {
        const float xhat = (v.x - mean) * invstd;
        dx[at] = scale * (v.dy - mean_dy - xhat * mean_dy_xhat);
      });
}

bool interleaved(const BatchNormShape& s) { return s.spatial == 1; }

// Splits of about values_per_thread values a thread (planar: the channel's n spatial values;
// interleaved: its n rows, a warp's), at most max_splits, none empty. Depends on the shape only,
// so the rounding is the same on every GPU.
Split split_for(const BatchNormShape& s) {
  Split p;
  p.shape = s;
  p.spatial = FastDivmod(s.spatial);
  const std::int64_t length = interleaved(s) ? std::int64_t(s.n) : std::int64_t(s.n) * s.spatial;
  const std::int64_t per_block = (interleaved(s) ? warps : threads) * values_per_thread;
  const std::int64_t wanted =
      std::clamp<std::int64_t>((length + per_block - 1) / per_block, 1, max_splits);
  const std::int64_t share = (length + wanted - 1) / wanted;
  p.share = static_cast<std::uint32_t>(share);
  p.splits = static_cast<int>((length + share - 1) / share);
  return p;
}

dim3 grid_for(const Split& p) {
  const std::int64_t channel_blocks =
      interleaved(p.shape) ? (p.shape.c + warp_size - 1) / warp_size : p.shape.c;
  if (channel_blocks > max_grid_y)
    throw std::invalid_argument("batchnorm (cuda, split_channels): more than 65535 channels");
  return dim3(static_cast<unsigned int>(p.splits), static_cast<unsigned int>(channel_blocks));
}

// Each pass in its layout: the partials launch, then the one that uses them.
template <class Values>
void run_forward_train(const Split& p, const BatchNormHyper& hyper, const float* x,
                       const float* gamma, const float* beta, float* y, float* running_mean,
                       float* running_var, float* saved_mean, float* saved_invstd,
                       const Activation& epilogue, cudaStream_t stream) {
  const dim3 grid = grid_for(p);
  const StreamScratch<ChannelSums> partials(std::size_t(p.splits) * p.shape.c, stream);
  launch({grid, threads, stream}, statistics_partials_kernel<Values>, p, x, partials.get());
  launch({grid, threads, stream}, normalize_kernel<Values>, p, hyper, epilogue, x, gamma, beta, y,
         running_mean, running_var, saved_mean, saved_invstd, partials.get());
}

template <class Values>
void run_backward(const Split& p, const float* x, const float* dy, const float* gamma,
                  const float* saved_mean, const float* saved_invstd, float* dx, float* dgamma,
                  float* dbeta, cudaStream_t stream) {
  const dim3 grid = grid_for(p);
  const StreamScratch<ChannelSums> partials(std::size_t(p.splits) * p.shape.c, stream);
  launch({grid, threads, stream}, backward_partials_kernel<Values>, p, x, dy, saved_mean,
         saved_invstd, partials.get());
  launch({grid, threads, stream}, backward_data_kernel<Values>, p, x, dy, gamma, saved_mean,
         saved_invstd, dx, dgamma, dbeta, partials.get());
}

} // namespace

void forward_train(const BatchNormShape& s, const BatchNormHyper& hyper, const float* x,
                   const float* gamma, const float* beta, float* y, float* running_mean,
                   float* running_var, float* saved_mean, float* saved_invstd,
                   const Activation& epilogue, cudaStream_t stream) {
  const auto run =
      interleaved(s) ? run_forward_train<InterleavedValues> : run_forward_train<PlanarValues>;
  run(split_for(s), hyper, x, gamma, beta, y, running_mean, running_var, saved_mean, saved_invstd,
      epilogue, stream);
}

void forward_eval(const BatchNormShape& s, const BatchNormHyper& hyper, const float* x,
                  const float* gamma, const float* beta, const float* running_mean,
                  const float* running_var, float* y, const Activation& epilogue,
                  cudaStream_t stream) {
  const Split p = split_for(s);
  const auto kernel = interleaved(s) ? eval_kernel<InterleavedValues> : eval_kernel<PlanarValues>;
  launch({grid_for(p), threads, stream}, kernel, p, hyper, epilogue, x, gamma, beta, running_mean,
         running_var, y);
}

void backward(const BatchNormShape& s, const float* x, const float* dy, const float* gamma,
              const float* saved_mean, const float* saved_invstd, float* dx, float* dgamma,
              float* dbeta, cudaStream_t stream) {
  const auto run = interleaved(s) ? run_backward<InterleavedValues> : run_backward<PlanarValues>;
  run(split_for(s), x, dy, gamma, saved_mean, saved_invstd, dx, dgamma, dbeta, stream);
}

} // namespace sgan::cuda::split_channels
