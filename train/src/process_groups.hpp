#pragma once
// Factories of the c10d process groups compiled into this build (train/dist/*.cpp, see train/CMakeLists.txt).
// They live in their own files because their headers need Gloo's or NCCL's headers, which not every build has.
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <string>

namespace xraylift::train::detail {

bool have_gloo();
bool have_nccl();
// Throw ConfigError when the backend is not compiled in. Gloo: host "" binds the machine's default interface.
c10::intrusive_ptr<c10d::Backend> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
                                            std::chrono::milliseconds timeout, const std::string& host);
c10::intrusive_ptr<c10d::Backend> make_nccl(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
                                            std::chrono::milliseconds timeout);

}  // namespace xraylift::train::detail
