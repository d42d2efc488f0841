#include "engine/core/ops.h"

#include "kernels/dropout.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "kernels/schedule.h"

#include <fmt/format.h>
#include <stdexcept>
#if defined(SGAN_WITH_CUDA)
#include "kernels/cuda/conv_variants.h"
#endif
#if defined(SGAN_WITH_CUDNN)
#include "kernels/cudnn/handle.h"
#endif

namespace sgan::ops {

namespace {
#if defined(SGAN_WITH_CUDA)
// Our convolution kernels in the context's precision: the default FP32 variant, or TF32.
cuda::ConvVariant conv_variant(const Context& ctx) {
  return ctx.tf32_convolutions() ? cuda::ConvVariant::tf32_tensor_cores
                                 : cuda::default_conv_variant;
}
#endif

[[noreturn]] void unavailable(const Context& ctx) {
  throw std::logic_error(
      fmt::format("the {} backend is not compiled into this build", backend_name(ctx.backend())));
}
} // namespace

void activation_forward(Context& ctx, const Activation& a, std::size_t n, const float* x,
                        float* y) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::activation_forward<float>(a, n, x, y);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::activation_forward(a, n, x, y, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void activation_backward(Context& ctx, const Activation& a, std::size_t n, const float* y,
                         const float* dy, float* dx) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::activation_backward<float>(a, n, y, dy, dx);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::activation_backward(a, n, y, dy, dx, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void conv2d_forward(Context& ctx, const Conv2dShape& s, const float* x, const float* w,
                    const float* b, float* y, const Activation& epilogue) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::conv2d_forward<float>(s, x, w, b, y, epilogue);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
    return cuda::conv2d_forward(conv_variant(ctx), s, x, w, b, y, epilogue, ctx.stream());
#endif
#if defined(SGAN_WITH_CUDNN)
  case Backend::cudnn:
    return cudnn::conv2d_forward(s, x, w, b, y, epilogue, ctx.cudnn());
#endif
  default:
    unavailable(ctx);
  }
}

void conv2d_backward_data(Context& ctx, const Conv2dShape& s, const float* dy, const float* w,
                          float* dx) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::conv2d_backward_data<float>(s, dy, w, dx);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
    return cuda::conv2d_backward_data(conv_variant(ctx), s, dy, w, dx, ctx.stream());
#endif
#if defined(SGAN_WITH_CUDNN)
  case Backend::cudnn:
    return cudnn::conv2d_backward_data(s, dy, w, dx, ctx.cudnn());
#endif
  default:
    unavailable(ctx);
  }
}

void conv2d_backward_weight(Context& ctx, const Conv2dShape& s, const float* x, const float* dy,
                            float* dw) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::conv2d_backward_weight<float>(s, x, dy, dw);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
    return cuda::conv2d_backward_weight(conv_variant(ctx), s, x, dy, dw, ctx.stream());
#endif
#if defined(SGAN_WITH_CUDNN)
  case Backend::cudnn:
    return cudnn::conv2d_backward_weight(s, x, dy, dw, ctx.cudnn());
#endif
  default:
    unavailable(ctx);
  }
}

void conv2d_backward_bias(Context& ctx, const Conv2dShape& s, const float* dy, float* db) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::conv2d_backward_bias<float>(s, dy, db);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
    return cuda::conv2d_backward_bias(s, dy, db, ctx.stream());
#endif
#if defined(SGAN_WITH_CUDNN)
  case Backend::cudnn:
    return cudnn::conv2d_backward_bias(s, dy, db, ctx.cudnn());
#endif
  default:
    unavailable(ctx);
  }
}

void conv_transpose2d_forward(Context& ctx, const ConvTranspose2dShape& s, const float* x,
                              const float* w, const float* b, float* y,
                              const Activation& epilogue) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::conv_transpose2d_forward<float>(s, x, w, b, y, epilogue);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
    return cuda::conv_transpose2d_forward(conv_variant(ctx), s, x, w, b, y, epilogue, ctx.stream());
#endif
#if defined(SGAN_WITH_CUDNN)
  case Backend::cudnn:
    return cudnn::conv_transpose2d_forward(s, x, w, b, y, epilogue, ctx.cudnn());
#endif
  default:
    unavailable(ctx);
  }
}

void conv_transpose2d_backward_data(Context& ctx, const ConvTranspose2dShape& s, const float* dy,
                                    const float* w, float* dx) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::conv_transpose2d_backward_data<float>(s, dy, w, dx);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
    return cuda::conv_transpose2d_backward_data(conv_variant(ctx), s, dy, w, dx, ctx.stream());
#endif
#if defined(SGAN_WITH_CUDNN)
  case Backend::cudnn:
    return cudnn::conv_transpose2d_backward_data(s, dy, w, dx, ctx.cudnn());
#endif
  default:
    unavailable(ctx);
  }
}

void conv_transpose2d_backward_weight(Context& ctx, const ConvTranspose2dShape& s, const float* x,
                                      const float* dy, float* dw) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::conv_transpose2d_backward_weight<float>(s, x, dy, dw);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
    return cuda::conv_transpose2d_backward_weight(conv_variant(ctx), s, x, dy, dw, ctx.stream());
#endif
#if defined(SGAN_WITH_CUDNN)
  case Backend::cudnn:
    return cudnn::conv_transpose2d_backward_weight(s, x, dy, dw, ctx.cudnn());
#endif
  default:
    unavailable(ctx);
  }
}

void conv_transpose2d_backward_bias(Context& ctx, const ConvTranspose2dShape& s, const float* dy,
                                    float* db) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::conv_transpose2d_backward_bias<float>(s, dy, db);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
    return cuda::conv_transpose2d_backward_bias(s, dy, db, ctx.stream());
#endif
#if defined(SGAN_WITH_CUDNN)
  case Backend::cudnn:
    return cudnn::conv_transpose2d_backward_bias(s, dy, db, ctx.cudnn());
#endif
  default:
    unavailable(ctx);
  }
}

void batchnorm_forward_train(Context& ctx, const BatchNormShape& s, const BatchNormHyper& hyper,
                             const float* x, const float* gamma, const float* beta, float* y,
                             float* running_mean, float* running_var, float* saved_mean,
                             float* saved_invstd, const Activation& epilogue) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::batchnorm_forward_train<float>(s, hyper, x, gamma, beta, y, running_mean,
                                               running_var, saved_mean, saved_invstd, epilogue);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
    return cuda::batchnorm_forward_train(s, hyper, x, gamma, beta, y, running_mean, running_var,
                                         saved_mean, saved_invstd, epilogue, ctx.stream());
#endif
#if defined(SGAN_WITH_CUDNN)
  case Backend::cudnn:
    return cudnn::batchnorm_forward_train(s, hyper, x, gamma, beta, y, running_mean, running_var,
                                          saved_mean, saved_invstd, epilogue, ctx.cudnn());
#endif
  default:
    unavailable(ctx);
  }
}

void batchnorm_forward_eval(Context& ctx, const BatchNormShape& s, const BatchNormHyper& hyper,
                            const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float* y,
                            const Activation& epilogue) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::batchnorm_forward_eval<float>(s, hyper, x, gamma, beta, running_mean, running_var,
                                              y, epilogue);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
    return cuda::batchnorm_forward_eval(s, hyper, x, gamma, beta, running_mean, running_var, y,
                                        epilogue, ctx.stream());
#endif
#if defined(SGAN_WITH_CUDNN)
  case Backend::cudnn:
    return cudnn::batchnorm_forward_eval(s, hyper, x, gamma, beta, running_mean, running_var, y,
                                         epilogue, ctx.cudnn());
#endif
  default:
    unavailable(ctx);
  }
}

void batchnorm_backward(Context& ctx, const BatchNormShape& s, const float* x, const float* dy,
                        const float* gamma, const float* saved_mean, const float* saved_invstd,
                        float* dx, float* dgamma, float* dbeta) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::batchnorm_backward<float>(s, x, dy, gamma, saved_mean, saved_invstd, dx, dgamma,
                                          dbeta);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
    return cuda::batchnorm_backward(s, x, dy, gamma, saved_mean, saved_invstd, dx, dgamma, dbeta,
                                    ctx.stream());
#endif
#if defined(SGAN_WITH_CUDNN)
  case Backend::cudnn:
    return cudnn::batchnorm_backward(s, x, dy, gamma, saved_mean, saved_invstd, dx, dgamma, dbeta,
                                     ctx.cudnn());
#endif
  default:
    unavailable(ctx);
  }
}

void dense_forward(Context& ctx, const DenseShape& s, const float* x, const float* w,
                   const float* b, float* y, const Activation& epilogue) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::dense_forward<float>(s, x, w, b, y, epilogue);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
    return cuda::dense_forward(s, x, w, b, y, epilogue, ctx.cublas());
#endif
#if defined(SGAN_WITH_CUDNN)
  case Backend::cudnn:
    return cudnn::dense_forward(s, x, w, b, y, epilogue, ctx.cudnn());
#endif
  default:
    unavailable(ctx);
  }
}

void dense_backward_data(Context& ctx, const DenseShape& s, const float* dy, const float* w,
                         float* dx) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::dense_backward_data<float>(s, dy, w, dx);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
    return cuda::dense_backward_data(s, dy, w, dx, ctx.cublas());
#endif
#if defined(SGAN_WITH_CUDNN)
  case Backend::cudnn:
    return cudnn::dense_backward_data(s, dy, w, dx, ctx.cudnn());
#endif
  default:
    unavailable(ctx);
  }
}

void dense_backward_weight(Context& ctx, const DenseShape& s, const float* x, const float* dy,
                           float* dw) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::dense_backward_weight<float>(s, x, dy, dw);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
    return cuda::dense_backward_weight(s, x, dy, dw, ctx.cublas());
#endif
#if defined(SGAN_WITH_CUDNN)
  case Backend::cudnn:
    return cudnn::dense_backward_weight(s, x, dy, dw, ctx.cudnn());
#endif
  default:
    unavailable(ctx);
  }
}

void dense_backward_bias(Context& ctx, const DenseShape& s, const float* dy, float* db) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::dense_backward_bias<float>(s, dy, db);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
    return cuda::dense_backward_bias(s, dy, db, ctx.cublas());
#endif
#if defined(SGAN_WITH_CUDNN)
  case Backend::cudnn:
    return cudnn::dense_backward_bias(s, dy, db, ctx.cudnn());
#endif
  default:
    unavailable(ctx);
  }
}

void weight_norm_forward(Context& ctx, const WeightNormShape& s, const float* v, const float* g,
                         float* w, float* norm) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::weight_norm_forward<float>(s, v, g, w, norm);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::weight_norm_forward(s, v, g, w, norm, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void weight_norm_backward(Context& ctx, const WeightNormShape& s, const float* v, const float* g,
                          const float* norm, const float* dw, float* dv, float* dg) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::weight_norm_backward<float>(s, v, g, norm, dw, dv, dg);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::weight_norm_backward(s, v, g, norm, dw, dv, dg, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void philox_uniform(Context& ctx, std::size_t n, const PhiloxStream& s,
                    const std::uint64_t* counter, float lo, float hi, float* out) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::philox_uniform(n, s, counter, lo, hi, out);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::philox_uniform(n, s, counter, lo, hi, out, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void philox_normal(Context& ctx, std::size_t n, const PhiloxStream& s, const std::uint64_t* counter,
                   float mean, float stddev, float* out) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::philox_normal(n, s, counter, mean, stddev, out);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::philox_normal(n, s, counter, mean, stddev, out, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void dropout_forward(Context& ctx, std::size_t n, float keep_prob, const PhiloxStream& s,
                     const std::uint64_t* counter, const float* x, float* y) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::dropout_forward<float>(n, keep_prob, s, counter, x, y);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::dropout_forward(n, keep_prob, s, counter, x, y, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void dropout_backward(Context& ctx, std::size_t n, float keep_prob, const PhiloxStream& s,
                      const std::uint64_t* counter, const float* dy, float* dx) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::dropout_backward<float>(n, keep_prob, s, counter, dy, dx);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::dropout_backward(n, keep_prob, s, counter, dy, dx, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void gaussian_noise_forward(Context& ctx, std::size_t n, float sigma, const PhiloxStream& s,
                            const std::uint64_t* counter, const float* x, float* y) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::gaussian_noise_forward<float>(n, sigma, s, counter, x, y);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::gaussian_noise_forward(n, sigma, s, counter, x, y, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void sgan_softmax_xent_forward_backward(Context& ctx, const SganLossShape& s, const float* logits,
                                        const SganRow* kind, const std::int32_t* label,
                                        const float* weight, float* row_loss, float* dlogits,
                                        std::int32_t* correct) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::sgan_softmax_xent_forward_backward<float>(s, logits, kind, label, weight, row_loss,
                                                          dlogits, correct);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::sgan_softmax_xent_forward_backward(s, logits, kind, label, weight, row_loss,
                                                    dlogits, correct, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void feature_matching_forward_backward(Context& ctx, const FeatureMatchingShape& s,
                                       const float* real, const float* fake, float* loss,
                                       float* d_fake) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::feature_matching_forward_backward<float>(s, real, fake, loss, d_fake);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::feature_matching_forward_backward(s, real, fake, loss, d_fake, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void adam_update(Context& ctx, const AdamHyper& hyper, std::size_t n,
                 const AdamStepScalars* scalars, float* params, const float* grads, float* m,
                 float* v) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::adam_update(hyper, n, scalars, params, grads, m, v);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::adam_update(hyper, n, scalars, params, grads, m, v, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void sgd_update(Context& ctx, const SgdHyper& hyper, std::size_t n, const float* lr, float* params,
                const float* grads, float* velocity) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::sgd_update(hyper, n, lr, params, grads, velocity);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::sgd_update(hyper, n, lr, params, grads, velocity, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void ema_update(Context& ctx, std::size_t n, float rate, const float* params, float* ema) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::ema_update(n, rate, params, ema);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::ema_update(n, rate, params, ema, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void advance_counter(Context& ctx, std::uint64_t* counter) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::advance_counter(counter);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::advance_counter(counter, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void sum(Context& ctx, std::size_t n, const float* x, float* out) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::sum(n, x, out);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::sum(n, x, out, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void count(Context& ctx, std::size_t n, const std::int32_t* flags, std::int32_t* out) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::count(n, flags, out);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::count(n, flags, out, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void column_mean(Context& ctx, int rows, int cols, const float* x, float* out) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::column_mean(rows, cols, x, out);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::column_mean(rows, cols, x, out, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void fill(Context& ctx, std::size_t n, float value, float* x) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::fill(n, value, x);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::fill(n, value, x, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void scale(Context& ctx, std::size_t n, float alpha, float* x) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::scale(n, alpha, x);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::scale(n, alpha, x, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

void axpy(Context& ctx, std::size_t n, float alpha, const float* x, float* y) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::axpy(n, alpha, x, y);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::axpy(n, alpha, x, y, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

template <typename T>
void gather_rows(Context& ctx, int rows, std::size_t row_size, const T* src,
                 const std::int32_t* index, T* dst) {
  switch (ctx.backend()) {
  case Backend::cpu:
    return cpu::gather_rows<T>(rows, row_size, src, index, dst);
#if defined(SGAN_WITH_CUDA)
  case Backend::cuda:
  case Backend::cudnn:
    return cuda::gather_rows(rows, row_size, src, index, dst, ctx.stream());
#endif
  default:
    unavailable(ctx);
  }
}

template void gather_rows<float>(Context&, int, std::size_t, const float*, const std::int32_t*,
                                 float*);
template void gather_rows<std::int32_t>(Context&, int, std::size_t, const std::int32_t*,
                                        const std::int32_t*, std::int32_t*);
template void gather_rows<std::uint8_t>(Context&, int, std::size_t, const std::uint8_t*,
                                        const std::int32_t*, std::uint8_t*);

} // namespace sgan::ops
