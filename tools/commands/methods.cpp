// `xraylift methods`: the registered 3D methods (detect3d/method.hpp), for users and for scripts that run every
// method (`--names`: one name per line).
#include <cstdio>

#include "../command.hpp"
#include "xraylift/detect3d/method.hpp"

// Named, not anonymous: the torch commands are compiled as one unity file (docs/BUILDING.md "Build time").
namespace methods_command {

xraylift::tools::Runner setup(CLI::App& app) {
  auto names_only = std::make_shared<bool>(false);
  app.add_flag("--names", *names_only, "One name per line (for scripts)");
  return [names_only] {
    for (const auto& m : xraylift::detect3d::registered_methods()) {
      if (*names_only)
        std::printf("%s\n", m.name.c_str());
      else
        std::printf("%-12s %-9s detect3d.%s  %s\n", m.name.c_str(), m.trainable ? "trained" : "untrained",
                    m.name.c_str(), m.summary.c_str());
    }
    return 0;
  };
}

}  // namespace methods_command

XL_REGISTER_COMMAND("methods", "List the registered 3D methods (name, trained or not, config section, summary)",
                    methods_command::setup);
