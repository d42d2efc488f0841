#pragma once
// MNIST-shaped images of uniform random pixels (image i has label i % 10), for the benchmarks and
// the iteration recorder: an iteration's cost, and the agreement of two implementations on it, do
// not depend on what the pixels show.
#include "engine/data/mnist.h"

#include <cstddef>
#include <cstdint>
#include <random>

namespace sgan::bench {

inline Dataset random_images(int count, std::uint64_t seed) {
  Dataset d;
  d.count = count;
  d.rows = d.cols = 28;
  d.pixels.resize(std::size_t(count) * 28 * 28);
  d.labels.resize(std::size_t(count));
  std::mt19937_64 rng(seed);
  for (auto& p : d.pixels) p = std::uint8_t(rng() & 0xff);
  for (int i = 0; i < count; ++i) d.labels[std::size_t(i)] = std::uint8_t(i % kMnistClasses);
  return d;
}

} // namespace sgan::bench
