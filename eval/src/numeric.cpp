#include "xraylift/eval/numeric.hpp"

#include <algorithm>

#include "xraylift/core/error.hpp"

namespace xraylift::eval {

std::vector<double> linspace(double start, double stop, int num) {
  XL_CHECK(num >= 0, "linspace: num = ", num, ", expected >= 0");
  std::vector<double> out(static_cast<std::size_t>(num));
  if (num == 0) return out;
  if (num == 1) {
    out[0] = start;
    return out;
  }
  const double step = (stop - start) / (num - 1);
  for (int i = 0; i < num; ++i) out[i] = i * step + start;
  out.back() = stop;
  return out;
}

double interp(double x, const std::vector<double>& xp, const std::vector<double>& fp, double left, double right) {
  XL_CHECK(xp.size() == fp.size(), "interp: ", xp.size(), " x values but ", fp.size(), " y values");
  if (xp.empty()) return left;
  if (x < xp.front()) return left;
  if (x > xp.back()) return right;
  // j = last index with xp[j] <= x (numpy's binary search lands there for tied runs too).
  const auto it = std::upper_bound(xp.begin(), xp.end(), x);
  const std::size_t j = static_cast<std::size_t>(it - xp.begin()) - 1;
  if (j + 1 == xp.size() || xp[j] == x) return fp[j];
  const double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
  return slope * (x - xp[j]) + fp[j];
}

double interp(double x, const std::vector<double>& xp, const std::vector<double>& fp) {
  if (fp.empty()) return 0.0;
  return interp(x, xp, fp, fp.front(), fp.back());
}

}  // namespace xraylift::eval
