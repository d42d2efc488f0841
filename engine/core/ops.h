#pragma once
// The kernels, dispatched by the context's backend: cpu:: references, our cuda:: kernels, or the
// cudnn:: vendor twins (ops without a vendor twin run our CUDA kernel on the cudnn backend too).
// Layers call these and never name a backend themselves.
#include "engine/core/context.h"
#include "kernels/activation.h"
#include "kernels/batchnorm.h"
#include "kernels/conv2d.h"
#include "kernels/conv_transpose2d.h"
#include "kernels/dense.h"
#include "kernels/optimizers.h"
#include "kernels/philox.h"
#include "kernels/sgan_loss.h"
#include "kernels/weight_norm.h"

#include <cstddef>
#include <cstdint>

namespace sgan::ops {

void activation_forward(Context& ctx, const Activation& a, std::size_t n, const float* x, float* y);
void activation_backward(Context& ctx, const Activation& a, std::size_t n, const float* y,
                         const float* dy, float* dx);

void conv2d_forward(Context& ctx, const Conv2dShape& s, const float* x, const float* w,
                    const float* b, float* y, const Activation& epilogue);
void conv2d_backward_data(Context& ctx, const Conv2dShape& s, const float* dy, const float* w,
                          float* dx);
void conv2d_backward_weight(Context& ctx, const Conv2dShape& s, const float* x, const float* dy,
                            float* dw);
void conv2d_backward_bias(Context& ctx, const Conv2dShape& s, const float* dy, float* db);

void conv_transpose2d_forward(Context& ctx, const ConvTranspose2dShape& s, const float* x,
                              const float* w, const float* b, float* y, const Activation& epilogue);
void conv_transpose2d_backward_data(Context& ctx, const ConvTranspose2dShape& s, const float* dy,
                                    const float* w, float* dx);
void conv_transpose2d_backward_weight(Context& ctx, const ConvTranspose2dShape& s, const float* x,
                                      const float* dy, float* dw);
void conv_transpose2d_backward_bias(Context& ctx, const ConvTranspose2dShape& s, const float* dy,
                                    float* db);

void batchnorm_forward_train(Context& ctx, const BatchNormShape& s, const BatchNormHyper& hyper,
                             const float* x, const float* gamma, const float* beta, float* y,
                             float* running_mean, float* running_var, float* saved_mean,
                             float* saved_invstd, const Activation& epilogue);
void batchnorm_forward_eval(Context& ctx, const BatchNormShape& s, const BatchNormHyper& hyper,
                            const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float* y,
                            const Activation& epilogue);
void batchnorm_backward(Context& ctx, const BatchNormShape& s, const float* x, const float* dy,
                        const float* gamma, const float* saved_mean, const float* saved_invstd,
                        float* dx, float* dgamma, float* dbeta);

void dense_forward(Context& ctx, const DenseShape& s, const float* x, const float* w,
                   const float* b, float* y, const Activation& epilogue);
void dense_backward_data(Context& ctx, const DenseShape& s, const float* dy, const float* w,
                         float* dx);
void dense_backward_weight(Context& ctx, const DenseShape& s, const float* x, const float* dy,
                           float* dw);
void dense_backward_bias(Context& ctx, const DenseShape& s, const float* dy, float* db);

void weight_norm_forward(Context& ctx, const WeightNormShape& s, const float* v, const float* g,
                         float* w, float* norm);
void weight_norm_backward(Context& ctx, const WeightNormShape& s, const float* v, const float* g,
                          const float* norm, const float* dw, float* dv, float* dg);

void philox_uniform(Context& ctx, std::size_t n, const PhiloxStream& s,
                    const std::uint64_t* counter, float lo, float hi, float* out);
void philox_normal(Context& ctx, std::size_t n, const PhiloxStream& s, const std::uint64_t* counter,
                   float mean, float stddev, float* out);
void dropout_forward(Context& ctx, std::size_t n, float keep_prob, const PhiloxStream& s,
                     const std::uint64_t* counter, const float* x, float* y);
void dropout_backward(Context& ctx, std::size_t n, float keep_prob, const PhiloxStream& s,
                      const std::uint64_t* counter, const float* dy, float* dx);
void gaussian_noise_forward(Context& ctx, std::size_t n, float sigma, const PhiloxStream& s,
                            const std::uint64_t* counter, const float* x, float* y);

void sgan_softmax_xent_forward_backward(Context& ctx, const SganLossShape& s, const float* logits,
                                        const SganRow* kind, const std::int32_t* label,
                                        const float* weight, float* row_loss, float* dlogits,
                                        std::int32_t* correct);
void feature_matching_forward_backward(Context& ctx, const FeatureMatchingShape& s,
                                       const float* real, const float* fake, float* loss,
                                       float* d_fake);

void adam_update(Context& ctx, const AdamHyper& hyper, std::size_t n,
                 const AdamStepScalars* scalars, float* params, const float* grads, float* m,
                 float* v);
void sgd_update(Context& ctx, const SgdHyper& hyper, std::size_t n, const float* lr, float* params,
                const float* grads, float* velocity);
void ema_update(Context& ctx, std::size_t n, float rate, const float* params, float* ema);

// *counter += 1 on the device (the Philox counter of the next pass).
void advance_counter(Context& ctx, std::uint64_t* counter);
void sum(Context& ctx, std::size_t n, const float* x, float* out);
void count(Context& ctx, std::size_t n, const std::int32_t* flags, std::int32_t* out);
void column_mean(Context& ctx, int rows, int cols, const float* x, float* out);
void fill(Context& ctx, std::size_t n, float value, float* x);
void scale(Context& ctx, std::size_t n, float alpha, float* x);
void axpy(Context& ctx, std::size_t n, float alpha, const float* x, float* y);
template <typename T>
void gather_rows(Context& ctx, int rows, std::size_t row_size, const T* src,
                 const std::int32_t* index, T* dst);

} // namespace sgan::ops
