#include "xraylift/core/terminal.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace xraylift::core {
namespace {
bool g_progress_line_active = false;
}

std::mutex& terminal_mutex() {
  static std::mutex m;
  return m;
}

bool stderr_is_tty() {
  static const bool tty = isatty(STDERR_FILENO) != 0 && std::getenv("CI") == nullptr;
  return tty;
}

void clear_progress_line() {
  if (g_progress_line_active) {
    std::fputs("\r\033[2K", stderr);
    g_progress_line_active = false;
  }
}

void set_progress_line_active(bool active) { g_progress_line_active = active; }

}  // namespace xraylift::core
