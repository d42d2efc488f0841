#pragma once
// Central finite differences in double precision, the check every CPU backward pass is held to:
//   dL/dp_i ~ (L(p + h e_i) - L(p - h e_i)) / (2 h),   error O(h^2) plus rounding O(eps / h).
// With double precision and h = 1e-6 both are far below the 1e-6 relative tolerance the tests use
// for smooth ops (about 1e-10 and 1e-10 relative for O(1) values).
#include <cstddef>
#include <vector>

namespace sgan::test {

// Perturbs each element of `params` in turn (restoring it afterwards) and evaluates `loss()`,
// which must read `params` by reference.
template <typename Loss>
std::vector<double> numeric_gradient(std::vector<double>& params, Loss&& loss, double h = 1e-6) {
  std::vector<double> gradient(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    const double saved = params[i];
    params[i] = saved + h;
    const double plus = loss();
    params[i] = saved - h;
    const double minus = loss();
    params[i] = saved;
    gradient[i] = (plus - minus) / (2 * h);
  }
  return gradient;
}

// L = sum_i y_i r_i: a scalar loss whose gradient with respect to y is r, used to turn an op's
// output into a scalar so its backward pass can be checked with dy = r.
inline double dot(const std::vector<double>& y, const std::vector<double>& r) {
  double total = 0;
  for (std::size_t i = 0; i < y.size(); ++i) total += y[i] * r[i];
  return total;
}

}  // namespace sgan::test
