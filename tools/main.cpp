// xraylift: one executable, one subcommand per job. Exit codes: 0 ok, 1 failure, 2 usage/config error,
// 3 bad input data, 130 interrupted (Ctrl-C: the job stops at its next safe point, core/interrupt.hpp).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>

#include "command.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/interrupt.hpp"
#include "xraylift/core/log.hpp"

using namespace xraylift;

int main(int argc, char** argv) {
  CLI::App app{
      "xraylift: 3D lung-nodule localization from a few X-ray views (DRR rendering, 2D detection, "
      "3D lifting, evaluation, scene export)",
      "xraylift"};
  app.require_subcommand(1);
  app.set_version_flag("--version", XRAYLIFT_VERSION);
  bool verbose = false;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbose, "Debug logging");
  app.add_flag("-q,--quiet", quiet, "Warnings and errors only");
  app.footer("Run 'xraylift <command> --help' for a command's options. Logging also follows XRAYLIFT_LOG.");

  std::map<CLI::App*, tools::Runner> runners;
  for (const auto& spec : tools::registered_commands()) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.summary);
    runners[sub] = spec.setup(*sub);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(core::ExitCode::kUsage);
  }
  if (verbose) core::log::set_level(core::log::Level::kDebug);
  if (quiet) core::log::set_level(core::log::Level::kWarn);

  core::install_interrupt_handlers();
  for (auto& [sub, run] : runners) {
    if (!sub->parsed()) continue;
    try {
      return run();
    } catch (const core::Interrupted& e) {
      core::log::warn(e.what());
      return static_cast<int>(core::ExitCode::kInterrupted);
    } catch (const core::ConfigError& e) {
      core::log::error(e.what());
      return static_cast<int>(core::ExitCode::kUsage);
    } catch (const core::InputError& e) {
      core::log::error(e.what());
      return static_cast<int>(core::ExitCode::kInputData);
    } catch (const std::exception& e) {
      core::log::error(sub->get_name(), " failed: ", e.what());
      return static_cast<int>(core::ExitCode::kFailure);
    }
  }
  return static_cast<int>(core::ExitCode::kUsage);
}
