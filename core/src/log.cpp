#include "xraylift/core/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "xraylift/core/terminal.hpp"

namespace xraylift::core::log {
namespace {

Level initial_level() {
  const char* env = std::getenv("XRAYLIFT_LOG");
  if (env == nullptr || *env == '\0') return Level::kInfo;
  try {
    return parse_level(env);
  } catch (const ConfigError&) {
    std::fprintf(stderr, "[warn] XRAYLIFT_LOG='%s' is not one of debug|info|warn|error|off; using info\n", env);
    return Level::kInfo;
  }
}

std::atomic<int>& level_storage() {
  static std::atomic<int> value{static_cast<int>(initial_level())};
  return value;
}

}  // namespace

void set_level(Level l) { level_storage().store(static_cast<int>(l)); }
Level level() { return static_cast<Level>(level_storage().load()); }

Level parse_level(const std::string& name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  if (name == "off" || name == "quiet") return Level::kOff;
  throw ConfigError(cat("log level '", name, "': expected one of debug, info, warn, error, off"));
}

void write(Level l, const std::string& message) {
  static const char* names[] = {"debug", "info", "warn", "error"};
  std::lock_guard<std::mutex> lock(terminal_mutex());
  clear_progress_line();
  std::fprintf(stderr, "[%s] %s\n", names[static_cast<int>(l)], message.c_str());
  std::fflush(stderr);
}

}  // namespace xraylift::core::log
