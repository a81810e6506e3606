// The NCCL process group (CUDA collectives). Compiled only in CUDA builds (nccl.h from the torch wheel's
// nvidia-nccl package or the CUDA toolkit).
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include "process_groups.hpp"

namespace xraylift::train::detail {

bool have_nccl() { return true; }

c10::intrusive_ptr<c10d::Backend> make_nccl(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
                                            std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, options);
}

}  // namespace xraylift::train::detail
