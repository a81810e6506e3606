// Stand-in when the build has no Gloo headers: the "gloo" backend is refused with the way to get it.
#include "process_groups.hpp"
#include "xraylift/core/error.hpp"

namespace xraylift::train::detail {

bool have_gloo() { return false; }

c10::intrusive_ptr<c10d::Backend> make_gloo(const c10::intrusive_ptr<c10d::Store>&, int, int, std::chrono::milliseconds,
                                            const std::string&) {
  throw core::ConfigError(
      "train.distributed.backend gloo: this build has no Gloo headers (run scripts/setup.sh, which provides them, "
      "or set XRAYLIFT_GLOO_INCLUDE_DIR); use backend store or auto");
}

}  // namespace xraylift::train::detail
