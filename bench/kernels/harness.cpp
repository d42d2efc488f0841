#include "bench/kernels/harness.h"

#if defined(SGAN_WITH_CUDNN)
#include "bench/kernels/events.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <fmt/format.h>

namespace sgan::bench {
namespace {

// splitmix64: a small, fixed generator, so every run and machine fills the same data.
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A uniform double in [0, 1) from the top 53 bits of a draw.
double uniform01(std::uint64_t& state) { return double(splitmix64(state) >> 11) * 0x1.0p-53; }

// Calls per sample for a call that takes `seconds_per_call`: enough for the schedule's sample
// length, at least one, at most a bound that keeps a sample of a near-empty call finite.
int calls_for(double seconds_per_call, double sample_seconds) {
  constexpr int most_calls = 10000;
  if (sample_seconds <= 0.0) return 1;
  if (!(seconds_per_call > 0.0)) return most_calls;
  return int(std::clamp(std::ceil(sample_seconds / seconds_per_call), 1.0, double(most_calls)));
}

void repeat(const Launch& launch, int calls) {
  for (int i = 0; i < calls; ++i) launch();
}

// Times a few calls after the warm-up to choose how many calls one sample repeats.
int calls_per_sample(const Launch& launch, cudaStream_t stream, const Schedule& schedule) {
  if (schedule.sample_seconds <= 0.0) return 1;
  constexpr int probe_calls = 5;
  Event start, end;
  start.record(stream);
  repeat(launch, probe_calls);
  end.record(stream);
  end.synchronize();
  return calls_for(end.seconds_since(start) / probe_calls, schedule.sample_seconds);
}

// Work per second and the share of the roofline it reaches, under `prefix` ("ours", "vendor").
// A time or peak of zero (below the events' resolution, an unreported clock) gives no counter
// rather than an infinity, which JSON cannot carry.
void rate_counters(benchmark::State& state, const DeviceRoofline& roofline, const Work& work,
                   const char* prefix, double seconds) {
  if (!(seconds > 0.0)) return;
  const double per_second = work.amount / seconds;
  const bool compute = work.bound == Work::Bound::compute;
  const double peak = compute ? roofline.peak_flops : roofline.copy_bytes_per_s;
  state.counters[fmt::format("{}_{}", prefix, compute ? "gflops" : "gbps")] = per_second * 1e-9;
  if (peak > 0.0)
    state.counters[fmt::format("{}_roofline_pct", prefix)] = 100.0 * per_second / peak;
}

std::string label(const Work& work, const Vendor& vendor, const std::string& refusal) {
  const char* roofline =
      work.bound == Work::Bound::compute ? "% of peak FP32" : "% of copy bandwidth";
  if (!refusal.empty())
    return fmt::format("ours only: {} refused the shape ({}); {}", vendor.name, refusal, roofline);
  return vendor.launch ? fmt::format("vs {}; {}", vendor.name, roofline)
                       : fmt::format("ours only; {}", roofline);
}

// The vendor's first call, where a library that does not support the shape says so (cuDNN's
// batchnorm inference refuses 67,108 rows of 512 features as one tensor: CUDNN_STATUS_NOT_SUPPORTED
// on an H200, bench/results/2026-12-04-6f1563c-NVIDIA-H200): that status, or "" where the call
// ran. Any other error is a failure of the case, as before.
std::string vendor_refusal(const Vendor& vendor) {
  if (!vendor.launch) return "";
  try {
    vendor.launch();
  } catch (const CudaError& e) {
    if (!e.not_supported()) throw;
    return e.status();
  }
  return "";
}

} // namespace

Gpu::Gpu(const Schedule& schedule)
    : schedule_(schedule), cublas_(stream_.get()), vendor_(stream_.get()),
      vendor_tf32_(stream_.get(), cudnn::ConvMath::tf32),
      roofline_(measure_roofline(stream_.get())) {}

DeviceArray<float> random_array(std::size_t n, std::uint64_t seed, float lo, float hi) {
  std::vector<float> host(n);
  std::uint64_t state = seed;
  for (float& v : host) v = lo + float(uniform01(state) * (double(hi) - double(lo)));
  return DeviceArray<float>(host);
}

DeviceArray<std::int32_t> random_indices(std::size_t n, std::uint64_t seed, std::int32_t bound) {
  std::vector<std::int32_t> host(n);
  std::uint64_t state = seed;
  for (std::int32_t& v : host)
    v = std::min(std::int32_t(uniform01(state) * double(bound)), std::int32_t(bound - 1));
  return DeviceArray<std::int32_t>(host);
}

namespace {

// The timing itself: warm-up, samples of ours then the vendor's calls, the counters.
void time_both(benchmark::State& state, Gpu& gpu, const Work& work, const Launch& ours,
               const Vendor& vendor) {
  const cudaStream_t stream = gpu.stream();
  const Schedule& schedule = gpu.schedule();
  for (int i = 0; i < schedule.warmup_calls; ++i) {
    ours();
    if (vendor.launch) vendor.launch();
  }
  CUDA_CHECK(cudaStreamSynchronize(stream));
  const int ours_calls = calls_per_sample(ours, stream, schedule);
  const int vendor_calls = vendor.launch ? calls_per_sample(vendor.launch, stream, schedule) : 0;

  Event start, ours_done, vendor_done;
  std::vector<double> ours_seconds, vendor_seconds;
  for (auto _ : state) {
    start.record(stream);
    repeat(ours, ours_calls);
    ours_done.record(stream);
    if (vendor.launch) repeat(vendor.launch, vendor_calls);
    vendor_done.record(stream);
    vendor_done.synchronize();
    ours_seconds.push_back(ours_done.seconds_since(start) / ours_calls);
    if (vendor.launch)
      vendor_seconds.push_back(vendor_done.seconds_since(ours_done) / vendor_calls);
    state.SetIterationTime(ours_seconds.back());
  }

  const DeviceRoofline& roofline = gpu.roofline();
  const double ours_median = median(ours_seconds);
  state.counters["ours_us"] = ours_median * 1e6;
  rate_counters(state, roofline, work, "ours", ours_median);
  if (vendor.launch) {
    const double vendor_median = median(vendor_seconds);
    state.counters["vendor_us"] = vendor_median * 1e6;
    if (vendor_median > 0.0) state.counters["ratio"] = ours_median / vendor_median;
    rate_counters(state, roofline, work, "vendor", vendor_median);
  }
  if (work.bound == Work::Bound::compute)
    state.counters["gflop"] = work.amount * 1e-9;
  else
    state.counters["mbyte"] = work.amount * 1e-6;
}

} // namespace

void time_case(benchmark::State& state, Gpu& gpu, const Work& work, const Launch& ours,
               const Vendor& vendor) {
  const std::string refusal = vendor_refusal(vendor);
  const Vendor timed_vendor = refusal.empty() ? vendor : Vendor{vendor.name, nullptr};
  time_both(state, gpu, work, ours, timed_vendor);
  state.SetLabel(label(work, vendor, refusal));
}

void register_case(const std::string& name, Gpu& gpu, CaseBody body) {
  benchmark::RegisterBenchmark(name.c_str(),
                               [&gpu, body = std::move(body)](benchmark::State& state) {
                                 try {
                                   body(state, gpu);
                                 } catch (const std::exception& e) {
                                   gpu.record_failure();
                                   state.SkipWithError(e.what());
                                 }
                               })
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond)
      ->Iterations(gpu.schedule().samples);
}

std::string case_name(std::string_view op, std::string_view direction, std::string_view shape,
                      int rows) {
  return fmt::format("{}/{}/{}/n{}", op, direction, shape, rows);
}

std::string case_name(std::string_view op, std::string_view direction, std::string_view shape) {
  return fmt::format("{}/{}/{}", op, direction, shape);
}

} // namespace sgan::bench
#endif
