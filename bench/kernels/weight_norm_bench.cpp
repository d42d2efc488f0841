// Weight normalisation (w = g v / ||v||, one warp per row), forward and backward; no vendor twin.
// Its size is the layer's weight, not the batch, so the cases carry no batch.
#include "bench/kernels/cases.h"

#if defined(SGAN_WITH_CUDNN)
#include "kernels/weight_norm.h"

namespace sgan::bench {
namespace {

struct WeightNormCase {
  const char* name;
  int rows, cols; // the dense layer's [out, in]
};

// Every weight-normalised layer of both recipes (improved D's fc5 is fc4's shape). Add a row to
// time another.
const WeightNormCase weight_norm_cases[] = {
    {"improved.D.fc1", 1000, 784},  {"improved.D.fc2", 500, 1000},
    {"improved.D.fc3", 250, 500},   {"improved.D.fc4", 250, 250},
    {"improved.D.logits", 10, 250}, {"improved.G.to_image", 28 * 28, 500},
};

void register_shape(Gpu& gpu, const WeightNormCase& c) {
  const WeightNormShape s{c.rows, c.cols};
  const double size = double(s.size()), rows = s.rows;
  // Reads v and g, writes w and the row norms.
  register_case(case_name("weight_norm", "fwd", c.name), gpu,
                [s, size, rows](benchmark::State& state, Gpu& g) {
                  const auto v = random_array(s.size(), 1),
                             scale = random_array(std::size_t(s.rows), 2, 0.5f, 1.5f);
                  const DeviceArray<float> w(s.size()), norm(std::size_t(s.rows));
                  time_case(state, g, Work::floats(2 * size + 2 * rows), [&] {
                    cuda::weight_norm_forward(s, v.get(), scale.get(), w.get(), norm.get(),
                                              g.stream());
                  });
                });
  // Reads v and dw, reads and writes dv; per row reads g and the norm, reads and writes dg.
  register_case(case_name("weight_norm", "bwd", c.name), gpu,
                [s, size, rows](benchmark::State& state, Gpu& g) {
                  const auto v = random_array(s.size(), 1), dw = random_array(s.size(), 3),
                             scale = random_array(std::size_t(s.rows), 2, 0.5f, 1.5f),
                             norm = random_array(std::size_t(s.rows), 4, 0.5f, 1.5f);
                  const DeviceArray<float> dv(s.size()), dg(std::size_t(s.rows));
                  time_case(state, g, Work::floats(4 * size + 4 * rows), [&] {
                    cuda::weight_norm_backward(s, v.get(), scale.get(), norm.get(), dw.get(),
                                               dv.get(), dg.get(), g.stream());
                  });
                });
}

} // namespace

void register_weight_norm_cases(Gpu& gpu) {
  for (const WeightNormCase& c : weight_norm_cases) register_shape(gpu, c);
}

} // namespace sgan::bench
#endif
