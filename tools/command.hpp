#pragma once
// Subcommands register themselves: one file per command in tools/commands/, no central list to edit.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xraylift/core/config.hpp"
#include "xraylift/data/lung_segmentation.hpp"
#include "xraylift/drr/visual_hull.hpp"

namespace xraylift::tools {

// A command's setup adds its options to its CLI11 subcommand and returns the function that runs it
// (returning an exit code; exceptions are mapped to exit codes by main).
using Runner = std::function<int()>;
using Setup = std::function<Runner(CLI::App& command)>;

struct CommandSpec {
  std::string name;
  std::string summary;
  Setup setup;
};

bool register_command(CommandSpec spec);

// The view sets under a path: the infos.json file itself, a folder's infos.json, or each sub-folder's (sorted);
// empty when there is none (the caller says what it expected).
std::vector<std::filesystem::path> view_sets_under(const std::filesystem::path& p);
const std::vector<CommandSpec>& registered_commands();

// The shipped parametric lung model (scripts/train_lung_shape.sh): models/lung_shape.safetensors in the working
// folder or the source tree, as the demo finds its weights; empty when there is none.
std::filesystem::path shipped_lung_shape_model();
// models/lung_fields.safetensors (the lung-field network) when present, else empty.
std::filesystem::path shipped_lung_field_model();
// The views' best lung model for viz::SceneInputs::views_lungs and predict's lung filter: the parametric fit
// (drr::best_views_lungs) with the shipped model, loaded on first use (a file that is not a lung shape model is an
// InputError naming it); the visual hull without one.
using ViewsLungsFunction =
    std::function<data::LungSegmentation(const drr::ViewsLungs&, std::string& model, std::string& note)>;
ViewsLungsFunction views_lungs_function();

// `--config FILE` (optional unless required) and repeated `--set key=value` on a command.
class ConfigOptions {
 public:
  ConfigOptions(CLI::App& app, std::string default_config = "", bool required = false);
  // Loads the file (or an empty config), applies --set overrides, then the thread count (apply_threads).
  core::Config load() const;

 private:
  std::string file_;
  std::vector<std::string> sets_;
  std::optional<int> threads_;  // --threads, when given
};

// The one validation rule of a numeric option: a finite value within [lo, hi]. Attach it where the option is
// declared (`app.add_option(...)->check(tools::within(1, 1000))`): a violation is a usage error (exit 2) that
// names the option, the value and the range, before the command runs.
CLI::Validator within(double lo, double hi);

// Removes the stale temporaries (core::remove_stale_temporaries: ".<name>.tmp.<pid>.<n>" of a writer that no
// longer runs) from the folders a command writes into, before it writes; logs what it removed.
void remove_stale_temporaries(const std::vector<std::string>& output_paths, const std::string& command);

// The one thread-count setting: --threads when given, else the config's top-level `threads` (default 0,
// all cores), applied to core::parallel_for's loops and to libtorch's intra-op pool.
void apply_threads(const core::Config& config, std::optional<int> flag);

}  // namespace xraylift::tools

// A bad command-line option is a usage error (exit 2, ConfigError), not bad input data (XL_CHECK, exit 3).
#define XL_USAGE_CHECK(cond, ...)                                                         \
  do {                                                                                    \
    if (!(cond)) throw ::xraylift::core::ConfigError(::xraylift::core::cat(__VA_ARGS__)); \
  } while (0)

#define XL_CONCAT_INNER(a, b) a##b
#define XL_CONCAT(a, b) XL_CONCAT_INNER(a, b)
// XL_REGISTER_COMMAND("name", "summary", setup_function)
// The torch commands are compiled together as one unity file (docs/BUILDING.md "Build time"): the static is named
// after __COUNTER__ (unique in the unity file), and such a command keeps its Options, setup and helpers in a
// namespace named after it (demo_command::setup), not in an anonymous one shared with the other commands.
#define XL_REGISTER_COMMAND(name, summary, setup)                    \
  static const bool XL_CONCAT(xl_command_registered_, __COUNTER__) = \
      ::xraylift::tools::register_command({name, summary, setup})
