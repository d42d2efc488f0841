// conv_transpose2d: our kernels against cuDNN (whose transposed convolution is its convolution's
// backward-data). Forward includes the layer's bias and fused activation; backward-weight and
// backward-bias accumulate.
#include "bench/kernels/cases.h"

#if defined(SGAN_WITH_CUDNN)
#include "kernels/conv_transpose2d.h"

namespace sgan::bench {
namespace {

struct ConvTranspose2dCase {
  const char* name;
  int rows_per_batch; // 1: both are G layers
  int c_in, h_in, w_in, c_out, kernel, stride;
  Activation epilogue; // the activation the layer fuses into its forward
};

// Every transposed convolution of both recipes (article G), Keras "same" padding. Add a row to
// time another shape.
const ConvTranspose2dCase conv_transpose2d_cases[] = {
    {"article.G.deconv1", 1, 128, 7, 7, 128, 4, 2, Activation::relu()},
    {"article.G.deconv2", 1, 128, 14, 14, 64, 4, 2, Activation::relu()},
};

void register_shape(Gpu& gpu, const ConvTranspose2dCase& c, const ConvTranspose2dShape& s) {
  const Activation epilogue = c.epilogue;
  for (const cuda::ConvVariant v : timed_conv_variants(gpu)) {
    register_case(conv_variant_case_name(v, case_name("conv_transpose2d", "fwd", c.name, s.n)), gpu,
                  [s, epilogue, v](benchmark::State& state, Gpu& g) {
                    const auto x = random_array(s.x_size(), 1), w = random_array(s.w_size(), 2),
                               b = random_array(std::size_t(s.c_out), 3);
                    const DeviceArray<float> y(s.y_size());
                    time_case(state, g, Work::compute(s.macs()),
                              [&] {
                                cuda::conv_transpose2d_forward(v, s, x.get(), w.get(), b.get(),
                                                               y.get(), epilogue, g.stream());
                              },
                              {"cudnn", [&] {
                                 cudnn::conv_transpose2d_forward(
                                    s, x.get(), w.get(), b.get(), y.get(), epilogue,
                                    g.vendor(vendor_conv_math(v)));
                               }});
                  });
    register_case(conv_variant_case_name(v, case_name("conv_transpose2d", "bwd_data", c.name, s.n)),
                  gpu, [s, v](benchmark::State& state, Gpu& g) {
                    const auto dy = random_array(s.y_size(), 4), w = random_array(s.w_size(), 2);
                    const DeviceArray<float> dx(s.x_size());
                    time_case(state, g, Work::compute(s.macs()),
                              [&] {
                                cuda::conv_transpose2d_backward_data(v, s, dy.get(), w.get(),
                                                                     dx.get(), g.stream());
                              },
                              {"cudnn", [&] {
                                 cudnn::conv_transpose2d_backward_data(
                                     s, dy.get(), w.get(), dx.get(),
                                     g.vendor(vendor_conv_math(v)));
                               }});
                  });
    register_case(
        conv_variant_case_name(v, case_name("conv_transpose2d", "bwd_weight", c.name, s.n)), gpu,
        [s, v](benchmark::State& state, Gpu& g) {
          const auto x = random_array(s.x_size(), 1), dy = random_array(s.y_size(), 4);
          const DeviceArray<float> dw(s.w_size());
          time_case(state, g, Work::compute(s.macs()),
                    [&] {
                      cuda::conv_transpose2d_backward_weight(v, s, x.get(), dy.get(), dw.get(),
                                                             g.stream());
                    },
                    {"cudnn", [&] {
                       cudnn::conv_transpose2d_backward_weight(s, x.get(), dy.get(), dw.get(),
                                                               g.vendor(vendor_conv_math(v)));
                     }});
        });
  }
  // Reads dy once; db is read and written.
  register_case(
      case_name("conv_transpose2d", "bwd_bias", c.name, s.n), gpu,
      [s](benchmark::State& state, Gpu& g) {
        const auto dy = random_array(s.y_size(), 4);
        const DeviceArray<float> db(std::size_t(s.c_out));
        time_case(state, g, Work::floats(double(s.y_size()) + 2.0 * s.c_out),
                  [&] { cuda::conv_transpose2d_backward_bias(s, dy.get(), db.get(), g.stream()); },
                  {"cudnn", [&] {
                     cudnn::conv_transpose2d_backward_bias(s, dy.get(), db.get(), g.vendor());
                   }});
      });
}

} // namespace

void register_conv_transpose2d_cases(Gpu& gpu) {
  for (const ConvTranspose2dCase& c : conv_transpose2d_cases)
    for (const int batch : recipe_batches)
      register_shape(gpu, c,
                     conv_transpose2d_shape(c.rows_per_batch * batch, c.c_in, c.h_in, c.w_in,
                                            c.c_out, c.kernel, c.kernel, c.stride, Padding::same));
}

} // namespace sgan::bench
#endif
