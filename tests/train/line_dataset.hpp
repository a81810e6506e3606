#pragma once
// y = 3 x0 - 2 x1 + 1 on an 8 x 8 grid of noise-free samples: linear regression must drive the loss to ~0.
// Shared by the trainer tests and the data-parallel worker (tests/train/dist_worker.cpp).
#include <torch/torch.h>

#include <string>

#include "xraylift/train/data.hpp"

namespace xraylift::testing {

class LineDataset : public train::Dataset {
 public:
  std::size_t size() const override { return 64; }
  train::Sample get(std::size_t i) const override {
    train::Sample s;
    s.id = std::to_string(i);
    const float x0 = float(i % 8) / 8, x1 = float(i / 8) / 8;
    s.tensors["x"] = torch::tensor({x0, x1});
    s.tensors["y"] = torch::tensor({3 * x0 - 2 * x1 + 1});
    return s;
  }
};

}  // namespace xraylift::testing
