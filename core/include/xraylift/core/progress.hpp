#pragma once
// Progress of a long loop: a bar with rate and ETA on a terminal, a plain line every few seconds otherwise
// (CI logs, pipes). Thread-safe: workers call tick() concurrently.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace xraylift::core {

class Progress {
 public:
  // total = 0 means unknown (no ETA). plain_interval: seconds between lines when not a TTY.
  Progress(std::string label, std::int64_t total, double plain_interval_s = 5.0);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void tick(std::int64_t n = 1);
  void set_status(const std::string& status);  // e.g. "loss 0.412"
  void finish();                               // prints the final line once; also called by the destructor

  std::int64_t done() const { return done_.load(); }
  double elapsed_seconds() const;
  // Formats "1h02m", "3m05s", "12.3s" (exposed for tests).
  static std::string format_duration(double seconds);
  // One rendered line, without printing it (exposed for tests).
  std::string render_line(bool final_line) const;

 private:
  void maybe_draw(bool force);

  std::string label_;
  std::int64_t total_;
  double plain_interval_s_;
  std::atomic<std::int64_t> done_{0};
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  mutable std::mutex mutex_;
  std::string status_;
  bool finished_ = false;
  bool tty_;
};

}  // namespace xraylift::core
