#pragma once
// The command line both benchmark binaries take: --smoke, then Google Benchmark's own flags.
#include <benchmark/benchmark.h>
#include <cstdio>
#include <cstring>
#include <vector>

namespace sgan::bench {

// Takes --smoke out of the arguments and initialises Google Benchmark with the rest. --help (or
// -h) prints `usage` (what the binary times and what --smoke does), then Google Benchmark's flags,
// and exits 0. Returns false where an argument is unrecognised (Google Benchmark has said which):
// exit with code 2.
inline bool initialize_benchmark(int argc, char** argv, const char* usage, bool* smoke) {
  *smoke = false;
  static char help_flag[] = "--help";
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && std::strcmp(argv[i], "--smoke") == 0) {
      *smoke = true;
    } else if (i > 0 && (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0)) {
      std::fputs(usage, stdout);
      std::fputs("\nGoogle Benchmark's flags:\n", stdout);
      std::fflush(stdout);
      args.push_back(help_flag);
    } else {
      args.push_back(argv[i]);
    }
  }
  int count = int(args.size());
  benchmark::Initialize(&count, args.data());
  return !benchmark::ReportUnrecognizedArguments(count, args.data());
}

} // namespace sgan::bench
