#pragma once
// Every activation kind, for the tests that run each epilogue, and each one's textbook formula in
// double: the reference for the kernels' own forms (softplus, for one, is written there so that
// it cannot overflow; the textbook's log1p(exp(x)) is accurate at the tests' moderate arguments).
#include "kernels/activation.h"

#include <algorithm>
#include <cmath>

namespace sgan::test {

inline const Activation all_activations[] = {Activation::identity(),       Activation::relu(),
                                             Activation::leaky_relu(0.2f), Activation::tanh(),
                                             Activation::sigmoid(),        Activation::softplus()};

inline double textbook_activation(const Activation& a, double x) {
  switch (a.kind) {
  case ActivationKind::identity:
    return x;
  case ActivationKind::relu:
    return std::max(x, 0.0);
  case ActivationKind::leaky_relu:
    return x > 0 ? x : a.slope * x;
  case ActivationKind::tanh:
    return std::tanh(x);
  case ActivationKind::sigmoid:
    return 1 / (1 + std::exp(-x));
  case ActivationKind::softplus:
    return std::log1p(std::exp(x));
  }
  return 0;
}

}  // namespace sgan::test
