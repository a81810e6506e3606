// The Gloo process group (CPU collectives). Compiled only when the build found Gloo's headers: libtorch_cpu holds
// the implementation, but the torch wheel ships no gloo/*.h (scripts/setup.sh provides them).
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include "process_groups.hpp"

namespace xraylift::train::detail {

bool have_gloo() { return true; }

c10::intrusive_ptr<c10d::Backend> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
                                            std::chrono::milliseconds timeout, const std::string& host) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices.push_back(host.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                                          : c10d::ProcessGroupGloo::createDeviceForHostname(host));
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
}

}  // namespace xraylift::train::detail
