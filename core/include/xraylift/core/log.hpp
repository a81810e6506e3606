#pragma once
// Levelled logging to stderr. Level from XRAYLIFT_LOG (debug|info|warn|error) or set_level().
#include <string>

#include "xraylift/core/error.hpp"

namespace xraylift::core::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void set_level(Level level);
Level level();
Level parse_level(const std::string& name);  // throws ConfigError on an unknown name
void write(Level level, const std::string& message);

template <typename... Args>
void debug(Args&&... a) {
  if (level() <= Level::kDebug) write(Level::kDebug, cat(std::forward<Args>(a)...));
}
template <typename... Args>
void info(Args&&... a) {
  if (level() <= Level::kInfo) write(Level::kInfo, cat(std::forward<Args>(a)...));
}
template <typename... Args>
void warn(Args&&... a) {
  if (level() <= Level::kWarn) write(Level::kWarn, cat(std::forward<Args>(a)...));
}
template <typename... Args>
void error(Args&&... a) {
  if (level() <= Level::kError) write(Level::kError, cat(std::forward<Args>(a)...));
}

}  // namespace xraylift::core::log
