#include "kernels/activation.h"

namespace sgan::cpu {

template <typename T>
void activation_forward(const Activation& a, std::size_t n, const T* x, T* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = activation_apply(a, x[i]);
}

template <typename T>
void activation_backward(const Activation& a, std::size_t n, const T* y, const T* dy, T* dx) {
  for (std::size_t i = 0; i < n; ++i) dx[i] = dy[i] * activation_derivative_from_output(a, y[i]);
}

template void activation_forward<float>(const Activation&, std::size_t, const float*, float*);
template void activation_forward<double>(const Activation&, std::size_t, const double*, double*);
template void activation_backward<float>(const Activation&, std::size_t, const float*,
                                         const float*, float*);
template void activation_backward<double>(const Activation&, std::size_t, const double*,
                                          const double*, double*);

}  // namespace sgan::cpu
