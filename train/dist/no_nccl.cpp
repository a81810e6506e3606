// Stand-in for builds without CUDA: the "nccl" backend is refused.
#include "process_groups.hpp"
#include "xraylift/core/error.hpp"

namespace xraylift::train::detail {

bool have_nccl() { return false; }

c10::intrusive_ptr<c10d::Backend> make_nccl(const c10::intrusive_ptr<c10d::Store>&, int, int,
                                            std::chrono::milliseconds) {
  throw core::ConfigError("train.distributed.backend nccl: this build has no CUDA (configure with XRAYLIFT_CUDA=ON)");
}

}  // namespace xraylift::train::detail
