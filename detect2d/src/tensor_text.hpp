#pragma once
// Tensor shapes in error messages ("[2, 5]"; "undefined" for an undefined tensor), internal to detect2d.
#include <torch/torch.h>

#include <sstream>
#include <string>

namespace xraylift::detect2d::detail {

inline std::string shape_of(const torch::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

}  // namespace xraylift::detect2d::detail
