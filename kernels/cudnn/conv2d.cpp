// The cuDNN twin of conv2d through cuDNN 9's legacy API (cudnnConvolutionForward, BackwardData,
// BackwardFilter, BackwardBias), for benchmarks and as a second opinion in tests. Float with FMA
// math only (no TF32), so it computes what our kernels compute up to float rounding, unless the
// Handle allows TF32 (ConvMath::tf32, the twin of our opt-in TF32 kernels). Each problem's
// algorithm is found once by cudnnFind* (the fastest deterministic one) and cached in the Handle.
//
// cuDNN pads symmetrically. Where our pads give the output size cuDNN's symmetric padding gives
// (stride 1 "same" with an odd kernel, every "valid", G's k4 s2 transposed convolutions), cuDNN
// runs on the tensors as they are. Keras "same" with an odd total pad (k3 s2 on 28: 0 on top, 1 at
// the bottom) cannot be said to cuDNN; as TensorFlow does, x is copied into a zero-padded
// workspace tensor holding exactly the rows and columns the windows read, and a valid convolution
// runs on that; backward_data computes into the padded tensor and crops. The copies are
// cudaMemcpy3DAsync between pitched views, so no kernel of ours is involved.
#include "kernels/conv2d.h"

#include "kernels/activation.h"
#include "kernels/cudnn/check.h"
#include "kernels/cudnn/handle.h"

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace sgan::cudnn {
namespace {

constexpr float one = 1.0f, zero = 0.0f;
constexpr std::size_t workspace_alignment = 256;

std::size_t aligned(std::size_t bytes) {
  return (bytes + workspace_alignment - 1) / workspace_alignment * workspace_alignment;
}

class TensorDescriptor {
public:
  TensorDescriptor(int n, int c, int h, int w) {
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&desc_));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(desc_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w));
  }
  ~TensorDescriptor() { cudnnDestroyTensorDescriptor(desc_); }
  TensorDescriptor(const TensorDescriptor&) = delete;
  TensorDescriptor& operator=(const TensorDescriptor&) = delete;
  cudnnTensorDescriptor_t get() const { return desc_; }

private:
  cudnnTensorDescriptor_t desc_ = nullptr;
};

class FilterDescriptor {
public:
  FilterDescriptor(int c_out, int c_in, int kh, int kw) {
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&desc_));
    CUDNN_CHECK(cudnnSetFilter4dDescriptor(desc_, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, c_out, c_in,
                                           kh, kw));
  }
  ~FilterDescriptor() { cudnnDestroyFilterDescriptor(desc_); }
  FilterDescriptor(const FilterDescriptor&) = delete;
  FilterDescriptor& operator=(const FilterDescriptor&) = delete;
  cudnnFilterDescriptor_t get() const { return desc_; }

private:
  cudnnFilterDescriptor_t desc_ = nullptr;
};

// The descriptor's math type: FMA math keeps float convolutions in FP32; CUDNN_DEFAULT_MATH lets
// cuDNN use TF32 tensor cores (compute capability 8.0+), with 10-bit mantissas.
cudnnMathType_t math_type(ConvMath math) {
  return math == ConvMath::tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
}

// Cross-correlation (what every framework calls convolution) in the Handle's math.
class ConvolutionDescriptor {
public:
  ConvolutionDescriptor(int pad_h, int pad_w, int stride, ConvMath math) {
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&desc_));
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(desc_, pad_h, pad_w, stride, stride, 1, 1,
                                                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CUDNN_CHECK(cudnnSetConvolutionMathType(desc_, math_type(math)));
  }
  ~ConvolutionDescriptor() { cudnnDestroyConvolutionDescriptor(desc_); }
  ConvolutionDescriptor(const ConvolutionDescriptor&) = delete;
  ConvolutionDescriptor& operator=(const ConvolutionDescriptor&) = delete;
  cudnnConvolutionDescriptor_t get() const { return desc_; }

private:
  cudnnConvolutionDescriptor_t desc_ = nullptr;
};

// The convolution cuDNN is asked to run for one of ours: on x itself with symmetric pads, or on a
// zero-padded copy of x ([n, c_in, h_in, w_in] here) with no pads.
struct CudnnConvolution {
  Conv2dShape shape;
  int h_in = 0, w_in = 0;   // of the tensor cuDNN reads
  int pad_h = 0, pad_w = 0; // cuDNN's symmetric pads
  bool padded = false;
  int copy_h = 0,
      copy_w = 0; // rows / columns of x inside the padded copy; no window reads the rest

  std::size_t padded_bytes() const {
    return padded ? std::size_t(shape.n) * shape.c_in * h_in * w_in * sizeof(float) : 0;
  }
};

// cuDNN's output size for symmetric padding: (in + 2 pad - k) / s + 1.
int symmetric_output(int in, int kernel, int stride, int pad) {
  return in + 2 * pad < kernel ? 0 : (in + 2 * pad - kernel) / stride + 1;
}

CudnnConvolution cudnn_convolution(const Conv2dShape& s) {
  CudnnConvolution c;
  c.shape = s;
  if (symmetric_output(s.h_in, s.kh, s.stride, s.pad_top) == s.h_out &&
      symmetric_output(s.w_in, s.kw, s.stride, s.pad_left) == s.w_out) {
    c.h_in = s.h_in;
    c.w_in = s.w_in;
    c.pad_h = s.pad_top;
    c.pad_w = s.pad_left;
    return c;
  }
  c.padded = true;
  c.h_in = (s.h_out - 1) * s.stride + s.kh;
  c.w_in = (s.w_out - 1) * s.stride + s.kw;
  c.copy_h = std::min(s.h_in, c.h_in - s.pad_top);
  c.copy_w = std::min(s.w_in, c.w_in - s.pad_left);
  return c;
}

struct Descriptors {
  Descriptors(const CudnnConvolution& c, ConvMath math)
      : x(c.shape.n, c.shape.c_in, c.h_in, c.w_in),
        y(c.shape.n, c.shape.c_out, c.shape.h_out, c.shape.w_out),
        w(c.shape.c_out, c.shape.c_in, c.shape.kh, c.shape.kw),
        conv(c.pad_h, c.pad_w, c.shape.stride, math) {}
  TensorDescriptor x, y;
  FilterDescriptor w;
  ConvolutionDescriptor conv;
};

std::string problem_key(const char* direction, const CudnnConvolution& c) {
  const Conv2dShape& s = c.shape;
  std::string key = std::string("conv2d ") + direction;
  // One Handle has one ConvMath, so its cache needs no math in the key.
  for (const int v :
       {s.n, s.c_in, c.h_in, c.w_in, s.c_out, s.kh, s.kw, s.stride, c.pad_h, c.pad_w}) {
    key += ' ';
    key += std::to_string(v);
  }
  return key;
}

// The fastest algorithm cudnnFind* ran successfully, preferring deterministic ones.
// cudnnFind* lists algorithms fastest first and may have timed some with TF32 allowed (its
// mathType field says); in FP32 (CUDNN_FMA_MATH on the descriptor) the first deterministic
// FMA-timed algorithm is preferred, then any deterministic one, then any that runs. With TF32
// allowed, the fastest deterministic one of any math.
template <typename Perf>
int pick_algorithm(const Perf* perf, int count, ConvMath math, const char* direction) {
  for (int i = 0; i < count; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].determinism == CUDNN_DETERMINISTIC &&
        (math == ConvMath::tf32 || perf[i].mathType == CUDNN_FMA_MATH))
      return static_cast<int>(perf[i].algo);
  for (int i = 0; i < count; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].determinism == CUDNN_DETERMINISTIC)
      return static_cast<int>(perf[i].algo);
  for (int i = 0; i < count; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS) return static_cast<int>(perf[i].algo);
  throw std::runtime_error(std::string("cudnn conv2d ") + direction +
                           ": no cuDNN algorithm runs this convolution");
}

cudnnConvolutionFwdAlgo_t forward_algorithm(const CudnnConvolution& c, const Descriptors& d,
                                            Handle& h) {
  const std::string key = problem_key("forward", c);
  if (const auto cached = h.cached_algorithm(key))
    return static_cast<cudnnConvolutionFwdAlgo_t>(*cached);
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int count = 0;
  CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(h.cudnn(), d.x.get(), d.w.get(), d.conv.get(),
                                                   d.y.get(), CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                   &count, perf));
  const int algorithm = pick_algorithm(perf, count, h.conv_math(), "forward");
  h.cache_algorithm(key, algorithm);
  return static_cast<cudnnConvolutionFwdAlgo_t>(algorithm);
}

cudnnConvolutionBwdDataAlgo_t backward_data_algorithm(const CudnnConvolution& c,
                                                      const Descriptors& d, Handle& h) {
  const std::string key = problem_key("backward_data", c);
  if (const auto cached = h.cached_algorithm(key))
    return static_cast<cudnnConvolutionBwdDataAlgo_t>(*cached);
  cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
  int count = 0;
  CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(
      h.cudnn(), d.w.get(), d.y.get(), d.conv.get(), d.x.get(),
      CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count, perf));
  const int algorithm = pick_algorithm(perf, count, h.conv_math(), "backward_data");
  h.cache_algorithm(key, algorithm);
  return static_cast<cudnnConvolutionBwdDataAlgo_t>(algorithm);
}

cudnnConvolutionBwdFilterAlgo_t backward_filter_algorithm(const CudnnConvolution& c,
                                                          const Descriptors& d, Handle& h) {
  const std::string key = problem_key("backward_weight", c);
  if (const auto cached = h.cached_algorithm(key))
    return static_cast<cudnnConvolutionBwdFilterAlgo_t>(*cached);
  cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
  int count = 0;
  CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(
      h.cudnn(), d.x.get(), d.y.get(), d.conv.get(), d.w.get(),
      CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &count, perf));
  const int algorithm = pick_algorithm(perf, count, h.conv_math(), "backward_weight");
  h.cache_algorithm(key, algorithm);
  return static_cast<cudnnConvolutionBwdFilterAlgo_t>(algorithm);
}

// One 3-D copy between the [n c, rows, columns] views of x and its padded copy, the padded side
// offset by (pad_top, pad_left): x rows [0, copy_h) <-> padded rows [pad_top, pad_top + copy_h).
void copy_between(const CudnnConvolution& c, const float* from, bool from_padded, float* to,
                  cudaStream_t stream) {
  const Conv2dShape& s = c.shape;
  // cudaPitchedPtr {ptr, row pitch in bytes, row length, rows per slice}; positions and the
  // extent's width are in bytes for linear memory.
  const cudaPitchedPtr x_view{nullptr, s.w_in * sizeof(float), std::size_t(s.w_in),
                              std::size_t(s.h_in)};
  const cudaPitchedPtr padded_view{nullptr, c.w_in * sizeof(float), std::size_t(c.w_in),
                                   std::size_t(c.h_in)};
  const cudaPos corner{0, 0, 0};
  const cudaPos padded_corner{s.pad_left * sizeof(float), std::size_t(s.pad_top), 0};
  cudaMemcpy3DParms p = {};
  p.srcPtr = from_padded ? padded_view : x_view;
  p.srcPtr.ptr = const_cast<float*>(from);
  p.dstPtr = from_padded ? x_view : padded_view;
  p.dstPtr.ptr = to;
  p.srcPos = from_padded ? padded_corner : corner;
  p.dstPos = from_padded ? corner : padded_corner;
  p.extent = cudaExtent{c.copy_w * sizeof(float), std::size_t(c.copy_h), std::size_t(s.n) * s.c_in};
  p.kind = cudaMemcpyDeviceToDevice;
  CUDA_CHECK(cudaMemcpy3DAsync(&p, stream));
}

// The zero-padded copy of x that the valid convolution reads.
void pad_input(const CudnnConvolution& c, const float* x, float* padded, cudaStream_t stream) {
  CUDA_CHECK(cudaMemsetAsync(padded, 0, c.padded_bytes(), stream));
  copy_between(c, x, false, padded, stream);
}

// dx from the gradient of the padded copy; rows and columns of x that no window reads get 0.
void crop_gradient(const CudnnConvolution& c, const float* padded, float* dx, cudaStream_t stream) {
  const Conv2dShape& s = c.shape;
  if (c.copy_h < s.h_in || c.copy_w < s.w_in)
    CUDA_CHECK(cudaMemsetAsync(dx, 0, s.x_size() * sizeof(float), stream));
  copy_between(c, padded, true, dx, stream);
}

// y = act(y + b) in place: cudnnAddTensor broadcasts the bias, and the activation is cuDNN's where
// it has one (in place is allowed with identical descriptors), else ours (as the batchnorm twin).
void add_bias_and_activate(const Conv2dShape& s, const float* b, const Activation& epilogue,
                           float* y, Handle& h) {
  if (b) {
    const TensorDescriptor bias(1, s.c_out, 1, 1), out(s.n, s.c_out, s.h_out, s.w_out);
    CUDNN_CHECK(cudnnAddTensor(h.cudnn(), &one, bias.get(), b, &one, out.get(), y));
  }
  if (epilogue.kind == ActivationKind::identity) return;
  if (has_activation(epilogue.kind))
    activation_forward(epilogue, s.y_size(), y, y, h);
  else
    cuda::activation_forward(epilogue, s.y_size(), y, y, h.stream());
}

} // namespace

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* b, float* y,
                    const Activation& epilogue, Handle& h) {
  const CudnnConvolution c = cudnn_convolution(s);
  const Descriptors d(c, h.conv_math());
  const cudnnConvolutionFwdAlgo_t algorithm = forward_algorithm(c, d, h);
  std::size_t algorithm_bytes = 0;
  CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h.cudnn(), d.x.get(), d.w.get(), d.conv.get(),
                                                      d.y.get(), algorithm, &algorithm_bytes));
  const std::size_t padded_bytes = aligned(c.padded_bytes());
  std::byte* workspace = static_cast<std::byte*>(h.workspace(padded_bytes + algorithm_bytes));
  const float* input = x;
  if (c.padded) {
    float* padded = reinterpret_cast<float*>(workspace);
    pad_input(c, x, padded, h.stream());
    input = padded;
  }
  CUDNN_CHECK(cudnnConvolutionForward(h.cudnn(), &one, d.x.get(), input, d.w.get(), w, d.conv.get(),
                                      algorithm, workspace + padded_bytes, algorithm_bytes, &zero,
                                      d.y.get(), y));
  add_bias_and_activate(s, b, epilogue, y, h);
}

void conv2d_backward_data(const Conv2dShape& s, const float* dy, const float* w, float* dx,
                          Handle& h) {
  const CudnnConvolution c = cudnn_convolution(s);
  const Descriptors d(c, h.conv_math());
  const cudnnConvolutionBwdDataAlgo_t algorithm = backward_data_algorithm(c, d, h);
  std::size_t algorithm_bytes = 0;
  CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(
      h.cudnn(), d.w.get(), d.y.get(), d.conv.get(), d.x.get(), algorithm, &algorithm_bytes));
  const std::size_t padded_bytes = aligned(c.padded_bytes());
  std::byte* workspace = static_cast<std::byte*>(h.workspace(padded_bytes + algorithm_bytes));
  float* target = c.padded ? reinterpret_cast<float*>(workspace) : dx;
  CUDNN_CHECK(cudnnConvolutionBackwardData(h.cudnn(), &one, d.w.get(), w, d.y.get(), dy,
                                           d.conv.get(), algorithm, workspace + padded_bytes,
                                           algorithm_bytes, &zero, d.x.get(), target));
  if (c.padded) crop_gradient(c, target, dx, h.stream());
}

void conv2d_backward_weight(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                            Handle& h) {
  const CudnnConvolution c = cudnn_convolution(s);
  const Descriptors d(c, h.conv_math());
  const cudnnConvolutionBwdFilterAlgo_t algorithm = backward_filter_algorithm(c, d, h);
  std::size_t algorithm_bytes = 0;
  CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(
      h.cudnn(), d.x.get(), d.y.get(), d.conv.get(), d.w.get(), algorithm, &algorithm_bytes));
  const std::size_t padded_bytes = aligned(c.padded_bytes());
  std::byte* workspace = static_cast<std::byte*>(h.workspace(padded_bytes + algorithm_bytes));
  const float* input = x;
  if (c.padded) {
    float* padded = reinterpret_cast<float*>(workspace);
    pad_input(c, x, padded, h.stream());
    input = padded;
  }
  // beta = 1: the gradient is added to dw.
  CUDNN_CHECK(cudnnConvolutionBackwardFilter(h.cudnn(), &one, d.x.get(), input, d.y.get(), dy,
                                             d.conv.get(), algorithm, workspace + padded_bytes,
                                             algorithm_bytes, &one, d.w.get(), dw));
}

void conv2d_backward_bias(const Conv2dShape& s, const float* dy, float* db, Handle& h) {
  const TensorDescriptor grad(s.n, s.c_out, s.h_out, s.w_out), bias(1, s.c_out, 1, 1);
  CUDNN_CHECK(cudnnConvolutionBackwardBias(h.cudnn(), &one, grad.get(), dy, &one, bias.get(), db));
}

} // namespace sgan::cudnn
