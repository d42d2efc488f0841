// Pointwise activations, in the layout the dispatch picks by size
// (kernels/cuda/elementwise_variants.h): ours against cuDNN's where it has the function (relu,
// tanh, sigmoid).
// Backward is what every layer with a fused activation runs to undo it, on the layer's output.
#include "bench/kernels/cases.h"

#if defined(SGAN_WITH_CUDNN)
#include "kernels/activation.h"

namespace sgan::bench {
namespace {

struct ActivationCase {
  const char* name;   // the layer whose output it is
  int rows_per_batch; // 3 for a D layer, 1 for a G layer
  int row_size;
  Activation activation;
};

// Every activation of both recipes, one row per distinct size (improved D's fc4 and fc5 are fc3's
// size, improved G's bn2 is bn1's). Add a row to time another.
const ActivationCase activation_cases[] = {
    {"article.D.conv1", 3, 64 * 14 * 14, Activation::leaky_relu(0.2f)},
    {"article.D.conv2", 3, 128 * 7 * 7, Activation::leaky_relu(0.2f)},
    {"article.G.fc", 1, 128 * 7 * 7, Activation::relu()},
    {"article.G.deconv1", 1, 128 * 14 * 14, Activation::relu()},
    {"article.G.deconv2", 1, 64 * 28 * 28, Activation::relu()},
    {"article.G.to_image", 1, 28 * 28, Activation::tanh()},
    {"improved.D.fc1", 3, 1000, Activation::relu()},
    {"improved.D.fc2", 3, 500, Activation::relu()},
    {"improved.D.fc3", 3, 250, Activation::relu()},
    {"improved.G.bn1", 1, 500, Activation::softplus()},
    {"improved.G.to_image", 1, 28 * 28, Activation::sigmoid()},
};

void register_shape(Gpu& gpu, const ActivationCase& c, int rows) {
  const Activation a = c.activation;
  const std::size_t n = std::size_t(rows) * std::size_t(c.row_size);
  const bool twin = cudnn::has_activation(a.kind);
  // Reads x, writes y.
  register_case(
      case_name(activation_name(a.kind), "fwd", c.name, rows), gpu,
      [a, n, twin](benchmark::State& state, Gpu& g) {
        const auto x = random_array(n, 1);
        const DeviceArray<float> y(n);
        time_case(
            state, g, Work::floats(2.0 * double(n)),
            [&] { cuda::activation_forward(a, n, x.get(), y.get(), g.stream()); },
            twin ? Vendor{"cudnn",
                          [&] { cudnn::activation_forward(a, n, x.get(), y.get(), g.vendor()); }}
                 : Vendor{});
      });
  // Reads y and dy, writes dx.
  register_case(
      case_name(activation_name(a.kind), "bwd", c.name, rows), gpu,
      [a, n, twin](benchmark::State& state, Gpu& g) {
        const auto y = random_array(n, 2), dy = random_array(n, 3);
        const DeviceArray<float> dx(n);
        time_case(
            state, g, Work::floats(3.0 * double(n)),
            [&] { cuda::activation_backward(a, n, y.get(), dy.get(), dx.get(), g.stream()); },
            twin ? Vendor{"cudnn",
                          [&] {
                            cudnn::activation_backward(a, n, y.get(), dy.get(), dx.get(),
                                                       g.vendor());
                          }}
                 : Vendor{});
      });
}

} // namespace

// Each activation the recipes use, at a size past the L2 cache (cases.h's large_elements).
const ActivationCase large_activation_cases[] = {
    {"large", 1, 1024, Activation::leaky_relu(0.2f)}, {"large", 1, 1024, Activation::relu()},
    {"large", 1, 1024, Activation::tanh()},           {"large", 1, 1024, Activation::sigmoid()},
    {"large", 1, 1024, Activation::softplus()},
};

void register_activation_cases(Gpu& gpu) {
  for (const ActivationCase& c : activation_cases)
    for (const int batch : recipe_batches) register_shape(gpu, c, c.rows_per_batch * batch);
  for (const ActivationCase& c : large_activation_cases)
    register_shape(gpu, c, large_elements / c.row_size);
}

} // namespace sgan::bench
#endif
