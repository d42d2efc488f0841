#include "kernels/activation.h"

namespace sgan {

const char* activation_name(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::identity: return "identity";
    case ActivationKind::relu: return "relu";
    case ActivationKind::leaky_relu: return "leaky_relu";
    case ActivationKind::tanh: return "tanh";
    case ActivationKind::sigmoid: return "sigmoid";
    case ActivationKind::softplus: return "softplus";
  }
  return "unknown";
}

}  // namespace sgan
