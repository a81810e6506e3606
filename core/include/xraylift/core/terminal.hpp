#pragma once
// Shared stderr state so log lines and a live progress bar do not garble each other.
#include <mutex>

namespace xraylift::core {

std::mutex& terminal_mutex();
bool stderr_is_tty();
// Erases a progress bar drawn on the current stderr line (no-op when none is drawn). Caller holds the mutex.
void clear_progress_line();
void set_progress_line_active(bool active);

}  // namespace xraylift::core
