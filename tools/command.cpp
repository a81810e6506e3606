#include "command.hpp"

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
}

core::Config ConfigOptions::load() const {
  core::Config c = file_.empty() ? core::Config() : core::Config::load(file_);
  c.set_all(sets_);
  return c;
}

}  // namespace xraylift::tools
