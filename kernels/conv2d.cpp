#include "kernels/conv2d.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace sgan {
namespace {

void require_positive(int value, const char* field) {
  if (value <= 0)
    throw std::invalid_argument(std::string("conv2d: ") + field + " must be positive, got " +
                                std::to_string(value));
}

// A pad of k or more would make the first window read padding only.
void require_pad_below_kernel(int pad, int kernel, const char* pad_field,
                              const char* kernel_field) {
  if (pad < 0 || pad >= kernel)
    throw std::invalid_argument(std::string("conv2d: ") + pad_field + " must be in [0, " +
                                kernel_field + ") = [0, " + std::to_string(kernel) + "), got " +
                                std::to_string(pad));
}

// The last window starts at (out - 1) s - pad; it must start inside the input, which is the same as
// the implied bottom/right pad being smaller than the kernel.
void require_last_window_reads_input(int out, int stride, int pad, int in, const char* out_field,
                                     const char* in_field) {
  const long long last_start = static_cast<long long>(out - 1) * stride - pad;
  if (last_start >= in)
    throw std::invalid_argument(std::string("conv2d: ") + out_field + " = " + std::to_string(out) +
                                " is too large: its last window starts at " +
                                std::to_string(last_start) + ", past " + in_field + " = " +
                                std::to_string(in));
}

} // namespace

Conv2dShape conv2d_shape(int n, int c_in, int h_in, int w_in, int c_out, int kh, int kw, int stride,
                         Padding padding) {
  Conv2dShape s;
  s.n = n;
  s.c_in = c_in;
  s.h_in = h_in;
  s.w_in = w_in;
  s.c_out = c_out;
  s.kh = kh;
  s.kw = kw;
  s.stride = stride;
  require_positive(stride, "stride");
  if (padding == Padding::same) {
    s.h_out = (h_in + stride - 1) / stride;
    s.w_out = (w_in + stride - 1) / stride;
    s.pad_top = std::max((s.h_out - 1) * stride + kh - h_in, 0) / 2;
    s.pad_left = std::max((s.w_out - 1) * stride + kw - w_in, 0) / 2;
  } else {
    if (h_in < kh || w_in < kw)
      throw std::invalid_argument("conv2d: valid padding needs the input (" + std::to_string(h_in) +
                                  "x" + std::to_string(w_in) +
                                  ") at least as large as the kernel (" + std::to_string(kh) + "x" +
                                  std::to_string(kw) + ")");
    s.h_out = (h_in - kh) / stride + 1;
    s.w_out = (w_in - kw) / stride + 1;
  }
  validate(s);
  return s;
}

void validate(const Conv2dShape& s) {
  require_positive(s.n, "n");
  require_positive(s.c_in, "c_in");
  require_positive(s.h_in, "h_in");
  require_positive(s.w_in, "w_in");
  require_positive(s.c_out, "c_out");
  require_positive(s.kh, "kh");
  require_positive(s.kw, "kw");
  require_positive(s.stride, "stride");
  require_positive(s.h_out, "h_out");
  require_positive(s.w_out, "w_out");
  require_pad_below_kernel(s.pad_top, s.kh, "pad_top", "kh");
  require_pad_below_kernel(s.pad_left, s.kw, "pad_left", "kw");
  require_last_window_reads_input(s.h_out, s.stride, s.pad_top, s.h_in, "h_out", "h_in");
  require_last_window_reads_input(s.w_out, s.stride, s.pad_left, s.w_in, "w_out", "w_in");
}

} // namespace sgan
