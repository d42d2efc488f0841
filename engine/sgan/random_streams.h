#pragma once
// The Philox streams of a training run (kernels/philox.h): every random number the trainer and
// its models draw is element e of (seed, stream, counter), and the stream says whose it is. One
// list, so that the streams stay apart and a replay outside the engine (bench/pytorch) can name
// them. The counter is the trainer's: it advances after the D step and after the G step.
#include <cstdint>

namespace sgan::random_streams {

inline constexpr std::uint32_t latent_noise = 1;            // G's input z at each step
inline constexpr std::uint32_t sample_noise = 2;            // the fixed z of the sample grids
inline constexpr std::uint32_t discriminator_layers = 1000; // + the layer's position in D
inline constexpr std::uint32_t generator_layers = 2000;     // + the layer's position in G

} // namespace sgan::random_streams
