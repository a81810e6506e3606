#include "xraylift/core/progress.hpp"

#include <cmath>
#include <cstdio>

#include "xraylift/core/error.hpp"
#include "xraylift/core/terminal.hpp"

namespace xraylift::core {

Progress::Progress(std::string label, std::int64_t total, double plain_interval_s)
    : label_(std::move(label)),
      total_(total < 0 ? 0 : total),
      plain_interval_s_(plain_interval_s),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_),
      tty_(stderr_is_tty()) {}

Progress::~Progress() { finish(); }

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Progress::format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) return cat(std::round(s * 10) / 10, "s");
  const auto total = static_cast<long long>(std::llround(s));
  char buf[32];
  if (total < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", total / 60, total % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", total / 3600, (total % 3600) / 60);
  }
  return buf;
}

std::string Progress::render_line(bool final_line) const {
  const std::int64_t done = done_.load();
  const double elapsed = elapsed_seconds();
  const double rate = elapsed > 0 ? done / elapsed : 0.0;
  std::string line = label_ + " ";
  if (total_ > 0) {
    const double frac = std::min(1.0, static_cast<double>(done) / total_);
    if (tty_) {
      const int width = 24;
      const int filled = static_cast<int>(frac * width);
      line += "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
    }
    char pct[16];
    std::snprintf(pct, sizeof pct, "%3.0f%%", frac * 100);
    line += cat(pct, " ", done, "/", total_);
  } else {
    line += cat(done);
  }
  char r[32];
  std::snprintf(r, sizeof r, "%.3g/s", rate);
  line += cat(" ", r, " ", format_duration(elapsed));
  if (final_line) {
    line += " done";
  } else if (total_ > 0 && rate > 0) {
    line += " ETA " + format_duration((total_ - done) / rate);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!status_.empty()) line += " | " + status_;
  return line;
}

void Progress::tick(std::int64_t n) {
  done_.fetch_add(n);
  maybe_draw(false);
}

void Progress::set_status(const std::string& status) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_ = status;
}

void Progress::maybe_draw(bool force) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_) return;
    const double since = std::chrono::duration<double>(now - last_draw_).count();
    const double interval = tty_ ? 0.1 : plain_interval_s_;
    if (!force && since < interval) return;
    last_draw_ = now;
  }
  const std::string line = render_line(false);
  std::lock_guard<std::mutex> lock(terminal_mutex());
  if (tty_) {
    std::fprintf(stderr, "\r\033[2K%s", line.c_str());
    set_progress_line_active(true);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void Progress::finish() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_) return;
    finished_ = true;
  }
  const std::string line = render_line(true);
  std::lock_guard<std::mutex> lock(terminal_mutex());
  clear_progress_line();
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace xraylift::core
