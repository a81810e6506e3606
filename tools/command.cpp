#include "command.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/parallel.hpp"
#include "xraylift/drr/lung_field_net.hpp"
#include "xraylift/drr/lung_shape.hpp"

namespace xraylift::tools {

static std::vector<CommandSpec>& registry() {
  static std::vector<CommandSpec> commands;
  return commands;
}

bool register_command(CommandSpec spec) {
  registry().push_back(std::move(spec));
  return true;
}

const std::vector<CommandSpec>& registered_commands() { return registry(); }

ConfigOptions::ConfigOptions(CLI::App& app, std::string default_config, bool required)
    : file_(std::move(default_config)) {
  auto* opt = app.add_option("-c,--config", file_, "YAML config file (a 'base:' key includes another file)");
  if (required) opt->required();
  if (!file_.empty()) opt->capture_default_str();
  app.add_option("--set", sets_, "Override a config value: --set key.sub=value (repeatable)")->type_name("KEY=VALUE");
  app.add_option("--threads", threads_,
                 "CPU threads for every parallel loop and tensor op (0: all cores); overrides the config's `threads`");
}

core::Config ConfigOptions::load() const {
  core::Config c = file_.empty() ? core::Config() : core::Config::load(file_);
  c.set_all(sets_);
  apply_threads(c, threads_);
  return c;
}

CLI::Validator within(double lo, double hi) {
  const std::string range = core::cat(lo, " .. ", hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        double value = 0;
        std::size_t used = 0;
        try {
          value = std::stod(text, &used);
        } catch (const std::exception&) {
          return core::cat("'", text, "' is not a number, expected ", range);
        }
        if (used != text.size() || !(value >= lo && value <= hi))  // NaN fails both comparisons
          return core::cat("= ", text, ", expected ", range);
        return {};
      },
      "in " + range, "within");
}

void remove_stale_temporaries(const std::vector<std::string>& output_paths, const std::string& command) {
  for (const auto& p : output_paths) {
    if (p.empty()) continue;
    const std::filesystem::path parent = std::filesystem::path(p).parent_path();
    const std::filesystem::path folder = parent.empty() ? std::filesystem::path(".") : parent;
    const std::size_t removed = core::remove_stale_temporaries(folder);
    if (removed > 0)
      core::log::info(command, ": removed ", removed, " stale temporaries of an interrupted run from ",
                      folder.string());
  }
}

void apply_threads(const core::Config& config, std::optional<int> flag) {
  const int configured = config.get<int>("threads", 0);
  const int threads = flag.value_or(configured);
  XL_USAGE_CHECK(threads >= 0, "threads = ", threads, " (", flag ? std::string("--threads") : config.origin("threads"),
                 "), expected >= 0 (0: all cores)");
  core::set_thread_count(threads);
  if (threads > 0) at::set_num_threads(threads);
}

namespace {

// models/<file> in the working folder or the source tree, as the demo finds its weights; empty when there is none.
std::filesystem::path shipped_model(const std::string& file) {
  for (const std::filesystem::path& root : {std::filesystem::path("."), std::filesystem::path(XRAYLIFT_SOURCE_DIR)})
    if (std::filesystem::exists(root / "models" / file)) return root / "models" / file;
  return {};
}

}  // namespace

std::filesystem::path shipped_lung_shape_model() { return shipped_model("lung_shape.safetensors"); }
std::filesystem::path shipped_lung_field_model() { return shipped_model("lung_fields.safetensors"); }

ViewsLungsFunction views_lungs_function() {
  auto model = std::make_shared<std::optional<drr::LungShapeModel>>();
  auto field_net = std::make_shared<std::optional<drr::LungFieldNet>>();
  auto loaded = std::make_shared<bool>(false);
  return [model, field_net, loaded](const drr::ViewsLungs& views, std::string& name, std::string& note) {
    if (!*loaded) {
      const std::filesystem::path p = shipped_lung_shape_model();
      if (!p.empty()) *model = drr::LungShapeModel::load(p);
      const std::filesystem::path f = shipped_lung_field_model();
      if (!f.empty() && std::string(drr::kBestLungFields) == "net") *field_net = drr::LungFieldNet::load(f);
      *loaded = true;
    }
    const drr::LungShapeModel* shape = model->has_value() ? &**model : nullptr;
    if (!field_net->has_value()) return drr::best_views_lungs(views, shape, name, &note);
    std::string failed;
    try {
      data::LungSegmentation lungs =
          drr::best_views_lungs(drr::with_net_lung_fields(**field_net, views), shape, name, &note);
      name += " (net fields)";
      return lungs;
    } catch (const core::InputError& e) {  // no lung in the network's fields: the rule's, and the note says why
      failed = e.what();
    }
    data::LungSegmentation lungs = drr::best_views_lungs(views, shape, name, &note);
    note = core::cat("the lung-field network found no lungs (", failed, "); the rule's fields instead",
                     note.empty() ? "" : "; ", note);
    return lungs;
  };
}

std::vector<std::filesystem::path> view_sets_under(const std::filesystem::path& p) {
  namespace fs = std::filesystem;
  if (fs::is_regular_file(p)) return {p};
  if (fs::exists(p / "infos.json")) return {p / "infos.json"};
  std::vector<fs::path> found;
  if (fs::is_directory(p))
    for (const auto& e : fs::directory_iterator(p))
      if (e.is_directory() && fs::exists(e.path() / "infos.json")) found.push_back(e.path() / "infos.json");
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace xraylift::tools
