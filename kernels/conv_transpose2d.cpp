#include "kernels/conv_transpose2d.h"

#include <stdexcept>
#include <string>

namespace sgan {
namespace {

void require_positive(int value, const char* field) {
  if (value <= 0)
    throw std::invalid_argument(std::string("conv_transpose2d: ") + field +
                                " must be positive, got " + std::to_string(value));
}

void require_pad_below_kernel(int pad, int kernel, const char* pad_field,
                              const char* kernel_field) {
  if (pad < 0 || pad >= kernel)
    throw std::invalid_argument(std::string("conv_transpose2d: ") + pad_field + " must be in [0, " +
                                kernel_field + ") = [0, " + std::to_string(kernel) + "), got " +
                                std::to_string(pad));
}

// The last input pixel scatters into outputs from (in - 1) s - pad onward; at least one of them
// must lie inside the output (in the conv2d view: the last window must read the conv2d's input).
void require_last_input_reaches_output(int in, int stride, int pad, int out, const char* out_field,
                                       const char* in_field) {
  const long long first_target = static_cast<long long>(in - 1) * stride - pad;
  if (first_target >= out)
    throw std::invalid_argument(std::string("conv_transpose2d: ") + out_field + " = " +
                                std::to_string(out) + " is too small: the last of " + in_field +
                                " = " + std::to_string(in) + " scatters from output index " +
                                std::to_string(first_target) + " onward");
}

void require_positive_sizes(int n, int c_in, int h_in, int w_in, int c_out, int kh, int kw,
                            int stride) {
  require_positive(n, "n");
  require_positive(c_in, "c_in");
  require_positive(h_in, "h_in");
  require_positive(w_in, "w_in");
  require_positive(c_out, "c_out");
  require_positive(kh, "kh");
  require_positive(kw, "kw");
  require_positive(stride, "stride");
}

} // namespace

ConvTranspose2dShape conv_transpose2d_shape(int n, int c_in, int h_in, int w_in, int c_out, int kh,
                                            int kw, int stride, Padding padding) {
  require_positive_sizes(n, c_in, h_in, w_in, c_out, kh, kw, stride);
  ConvTranspose2dShape s;
  s.n = n;
  s.c_in = c_in;
  s.h_in = h_in;
  s.w_in = w_in;
  s.c_out = c_out;
  s.kh = kh;
  s.kw = kw;
  s.stride = stride;
  if (padding == Padding::same) {
    s.h_out = h_in * stride;
    s.w_out = w_in * stride;
    const Conv2dShape forward =
        conv2d_shape(n, c_out, s.h_out, s.w_out, c_in, kh, kw, stride, Padding::same);
    s.pad_top = forward.pad_top;
    s.pad_left = forward.pad_left;
  } else {
    s.h_out = (h_in - 1) * stride + kh;
    s.w_out = (w_in - 1) * stride + kw;
  }
  validate(s);
  return s;
}

Conv2dShape as_conv2d(const ConvTranspose2dShape& s) {
  Conv2dShape c;
  c.n = s.n;
  c.c_in = s.c_out;
  c.h_in = s.h_out;
  c.w_in = s.w_out;
  c.c_out = s.c_in;
  c.kh = s.kh;
  c.kw = s.kw;
  c.stride = s.stride;
  c.pad_top = s.pad_top;
  c.pad_left = s.pad_left;
  c.h_out = s.h_in;
  c.w_out = s.w_in;
  return c;
}

void validate(const ConvTranspose2dShape& s) {
  require_positive_sizes(s.n, s.c_in, s.h_in, s.w_in, s.c_out, s.kh, s.kw, s.stride);
  require_positive(s.h_out, "h_out");
  require_positive(s.w_out, "w_out");
  require_pad_below_kernel(s.pad_top, s.kh, "pad_top", "kh");
  require_pad_below_kernel(s.pad_left, s.kw, "pad_left", "kw");
  require_last_input_reaches_output(s.h_in, s.stride, s.pad_top, s.h_out, "h_out", "h_in");
  require_last_input_reaches_output(s.w_in, s.stride, s.pad_left, s.w_out, "w_out", "w_in");
}

} // namespace sgan
