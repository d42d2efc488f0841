// Dense layers: ours (cuBLAS SGEMM, then our bias + activation pass; our column reduction for the
// bias gradient) against the twin (cublasLt with the bias and relu in its epilogue; cuBLAS GEMV
// for the bias gradient). Backward-weight and backward-bias accumulate.
#include "bench/kernels/cases.h"

#if defined(SGAN_WITH_CUDNN)
#include "kernels/dense.h"

namespace sgan::bench {
namespace {

struct DenseCase {
  const char* name;
  int rows_per_batch; // 3 for a D layer, 1 for a G layer
  int in, out;
  bool bias;
  Activation epilogue; // the activation the layer fuses into its forward
};

// Every dense layer of both recipes (improved D's fc5 is fc4's shape). Add a row to time another.
const DenseCase dense_cases[] = {
    {"article.D.logits", 3, 128 * 7 * 7, 11, true, Activation::identity()},
    {"article.G.fc", 1, 100, 128 * 7 * 7, true, Activation::relu()},
    {"improved.D.fc1", 3, 784, 1000, true, Activation::relu()},
    {"improved.D.fc2", 3, 1000, 500, true, Activation::relu()},
    {"improved.D.fc3", 3, 500, 250, true, Activation::relu()},
    {"improved.D.fc4", 3, 250, 250, true, Activation::relu()},
    {"improved.D.logits", 3, 250, 10, true, Activation::identity()},
    {"improved.G.fc1", 1, 100, 500, false, Activation::identity()},
    {"improved.G.fc2", 1, 500, 500, false, Activation::identity()},
    {"improved.G.to_image", 1, 500, 28 * 28, true, Activation::sigmoid()},
};

void register_shape(Gpu& gpu, const DenseCase& c, const DenseShape& s) {
  const Activation epilogue = c.epilogue;
  const bool bias = c.bias;
  register_case(case_name("dense", "fwd", c.name, s.n), gpu,
                [s, epilogue, bias](benchmark::State& state, Gpu& g) {
                  const auto x = random_array(s.x_size(), 1), w = random_array(s.w_size(), 2),
                             b = random_array(std::size_t(s.out), 3);
                  const float* b_or_null = bias ? b.get() : nullptr;
                  const DeviceArray<float> y(s.y_size());
                  time_case(state, g, Work::compute(s.macs()),
                            [&] {
                              cuda::dense_forward(s, x.get(), w.get(), b_or_null, y.get(), epilogue,
                                                  g.cublas());
                            },
                            {"cublasLt", [&] {
                               cudnn::dense_forward(s, x.get(), w.get(), b_or_null, y.get(),
                                                    epilogue, g.vendor());
                             }});
                });
  register_case(
      case_name("dense", "bwd_data", c.name, s.n), gpu, [s](benchmark::State& state, Gpu& g) {
        const auto dy = random_array(s.y_size(), 4), w = random_array(s.w_size(), 2);
        const DeviceArray<float> dx(s.x_size());
        time_case(state, g, Work::compute(s.macs()),
                  [&] { cuda::dense_backward_data(s, dy.get(), w.get(), dx.get(), g.cublas()); },
                  {"cublasLt", [&] {
                     cudnn::dense_backward_data(s, dy.get(), w.get(), dx.get(), g.vendor());
                   }});
      });
  register_case(
      case_name("dense", "bwd_weight", c.name, s.n), gpu, [s](benchmark::State& state, Gpu& g) {
        const auto x = random_array(s.x_size(), 1), dy = random_array(s.y_size(), 4);
        const DeviceArray<float> dw(s.w_size());
        time_case(state, g, Work::compute(s.macs()),
                  [&] { cuda::dense_backward_weight(s, x.get(), dy.get(), dw.get(), g.cublas()); },
                  {"cublasLt", [&] {
                     cudnn::dense_backward_weight(s, x.get(), dy.get(), dw.get(), g.vendor());
                   }});
      });
  if (!bias) return;
  // Reads dy once; db is read and written.
  register_case(
      case_name("dense", "bwd_bias", c.name, s.n), gpu, [s](benchmark::State& state, Gpu& g) {
        const auto dy = random_array(s.y_size(), 4);
        const DeviceArray<float> db(std::size_t(s.out));
        time_case(
            state, g, Work::floats(double(s.y_size()) + 2.0 * s.out),
            [&] { cuda::dense_backward_bias(s, dy.get(), db.get(), g.cublas()); },
            {"cublas", [&] { cudnn::dense_backward_bias(s, dy.get(), db.get(), g.vendor()); }});
      });
}

} // namespace

void register_dense_cases(Gpu& gpu) {
  for (const DenseCase& c : dense_cases)
    for (const int batch : recipe_batches)
      register_shape(gpu, c, DenseShape{c.rows_per_batch * batch, c.in, c.out});
}

} // namespace sgan::bench
#endif
