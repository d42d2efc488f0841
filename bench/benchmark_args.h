#pragma once
// The command line both benchmark binaries take: --smoke, then Google Benchmark's own flags.
#include <benchmark/benchmark.h>
#include <cstring>
#include <vector>

namespace sgan::bench {

// Takes --smoke out of the arguments and initialises Google Benchmark with the rest. Returns
// false where an argument is unrecognised (Google Benchmark has said which): exit with code 2.
inline bool initialize_benchmark(int argc, char** argv, bool* smoke) {
  *smoke = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0)
      *smoke = true;
    else
      args.push_back(argv[i]);
  }
  int count = int(args.size());
  benchmark::Initialize(&count, args.data());
  return !benchmark::ReportUnrecognizedArguments(count, args.data());
}

} // namespace sgan::bench
