// sgan_bench_kernels: every kernel of both SGAN recipes on the recipes' shapes at batch 64 and 256,
// ours (sgan::cuda) side by side with its cuDNN/cuBLAS twin (sgan::cudnn) where one exists.
//
//   sgan_bench_kernels [--smoke] [Google Benchmark flags, e.g. --benchmark_filter=conv2d/
//                      --benchmark_out=kernels.json --benchmark_out_format=json]
//
// Cases are named op/direction/shape/n<rows> (rows: what the op sees, 3n for a D layer); each
// reports ours_us, vendor_us, ratio (ours / vendor), GFLOP/s or GB/s and % of the roofline for
// both (bench/kernels/harness.h). The device and its roofline are in the output's context.
// --smoke runs every case for one call, a check that all of them run, not a measurement. Without
// a usable GPU, or in a build without CUDA or cuDNN, it says that nothing was timed and exits 0.
// It exits 1 if a case failed (its error is in the output) and 2 on an unknown flag.
#include "bench/benchmark_args.h"
#include "bench/kernels/cases.h"

#include <benchmark/benchmark.h>
#include <cstdio>
#include <exception>
#include <fmt/format.h>
#include <string>
#include <vector>

#if defined(SGAN_WITH_CUDNN)
#include <cudnn.h>
#endif

namespace sgan::bench {
namespace {

// Why no case can be timed here; empty where a GPU is usable.
std::string no_gpu_reason() {
#if !defined(SGAN_WITH_CUDA)
  return "built without the CUDA backend";
#elif !defined(SGAN_WITH_CUDNN)
  return "built without cuDNN, the vendor side of every case";
#else
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess)
    return fmt::format("cudaGetDeviceCount: {}", cudaGetErrorString(status));
  if (devices == 0) return "no CUDA device";
  return "";
#endif
}

constexpr const char* usage =
    "sgan_bench_kernels: every kernel of both SGAN recipes, on the recipes' shapes at batch 64 and\n"
    "256, ours side by side with its cuDNN/cuBLAS twin in one process (CUDA events, warm-up, the\n"
    "median of many samples): microseconds, ours/vendor, GFLOP/s or GB/s, % of the roofline.\n"
    "\n"
    "Usage: sgan_bench_kernels [--smoke] [Google Benchmark flags]\n"
    "  e.g. --benchmark_filter=conv2d/ --benchmark_out=kernels.json --benchmark_out_format=json\n"
    "\n"
    "  --smoke   each case called once: a check that every case runs, not a measurement\n"
    "\n"
    "Without a usable GPU it says so and exits 0; it exits 1 if a case failed, 2 on an unknown\n"
    "flag. bench/run_on_gpu.sh bench runs it with the step benchmark and the PyTorch twin.\n";

void report_nothing_timed(const std::string& reason, bool smoke) {
  if (smoke)
    std::printf("sgan_bench_kernels --smoke: no usable GPU (%s); nothing was timed.\n",
                reason.c_str());
  else
    std::printf("sgan_bench_kernels: no usable GPU (%s); nothing was measured and no benchmark "
                "results were written.\n",
                reason.c_str());
}

#if defined(SGAN_WITH_CUDNN)
// The device, its roofline and the library versions, in the output's context.
void describe(const DeviceRoofline& r, bool smoke) {
  int runtime = 0;
  CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  benchmark::AddCustomContext("gpu", r.name);
  benchmark::AddCustomContext("compute_capability",
                              fmt::format("{}.{}", r.compute_major, r.compute_minor));
  benchmark::AddCustomContext("sm_count", std::to_string(r.sm_count));
  benchmark::AddCustomContext("fp32_lanes_per_sm", std::to_string(r.fp32_lanes_per_sm));
  benchmark::AddCustomContext("sm_clock_mhz", fmt::format("{:.0f}", r.sm_clock_hz * 1e-6));
  benchmark::AddCustomContext("peak_fp32_gflops", fmt::format("{:.1f}", r.peak_flops * 1e-9));
  benchmark::AddCustomContext("copy_bandwidth_gbps",
                              fmt::format("{:.1f}", r.copy_bytes_per_s * 1e-9));
  benchmark::AddCustomContext("cuda_runtime", std::to_string(runtime));
  benchmark::AddCustomContext("cudnn", std::to_string(cudnnGetVersion()));
  benchmark::AddCustomContext("mode", smoke ? "smoke: one call per case, not a measurement"
                                            : "measurement");
}

int run_cases(bool smoke) {
  Gpu gpu(smoke ? smoke_schedule : full_schedule);
  describe(gpu.roofline(), smoke);
  register_all_cases(gpu);
  benchmark::RunSpecifiedBenchmarks();
  if (gpu.failed_cases() == 0) return 0;
  std::fprintf(stderr, "sgan_bench_kernels: %d cases failed (their errors are in the output)\n",
               gpu.failed_cases());
  return 1;
}
#endif

} // namespace
} // namespace sgan::bench

int main(int argc, char** argv) {
  using namespace sgan::bench;
  bool smoke = false;
  if (!sgan::bench::initialize_benchmark(argc, argv, usage, &smoke)) return 2;

  int status = 0;
  const std::string reason = no_gpu_reason();
  if (!reason.empty()) {
    report_nothing_timed(reason, smoke);
  } else {
#if defined(SGAN_WITH_CUDNN)
    try {
      status = run_cases(smoke);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "sgan_bench_kernels: %s\n", e.what());
      status = 1;
    }
#endif
  }
  benchmark::Shutdown();
  return status;
}
