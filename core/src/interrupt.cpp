#include "xraylift/core/interrupt.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>

#include "xraylift/core/error.hpp"

namespace xraylift::core {
namespace {

std::atomic<int> pending{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void on_stop_signal(int signal_number) {
  if (pending.fetch_add(1) > 0) {
    // Second signal: the default action (the process ends now).
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
    return;
  }
  static const char message[] =
      "\nxraylift: stopping after the current step (outputs stay complete); interrupt again to abort now\n";
  [[maybe_unused]] const auto written = ::write(STDERR_FILENO, message, sizeof(message) - 1);
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void request_interrupt() { pending.fetch_add(1); }
bool interrupt_requested() { return pending.load() > 0; }
void clear_interrupt() { pending = 0; }

void throw_if_interrupted(const std::string& where) {
  if (interrupt_requested()) throw Interrupted(where + ": interrupted");
}

namespace {

// Test-only (docs/RELIABILITY.md "Interrupted runs"): XRAYLIFT_TEST_SIGINT_DURING_UNIT=K makes for_each_unit send
// its process a real SIGINT just before unit K (1-based) starts, so that the signal is pending while unit K runs,
// as a Ctrl-C at that moment would be. A CLI test interrupts a command at a known unit this way, without sleeps
// or timing. 0 (or unset, or not a number) sends nothing.
std::size_t test_sigint_unit() {
  const char* text = std::getenv("XRAYLIFT_TEST_SIGINT_DURING_UNIT");
  if (!text || !*text) return 0;
  char* end = nullptr;
  const unsigned long long k = std::strtoull(text, &end, 10);
  return *end == '\0' ? static_cast<std::size_t>(k) : 0;
}

}  // namespace

void for_each_unit(const std::string& what, std::size_t count, const std::string& units,
                   const std::function<void(std::size_t)>& unit) {
  const std::size_t sigint_unit = test_sigint_unit();
  for (std::size_t i = 0; i <= count; ++i) {
    if (interrupt_requested())
      throw Interrupted(cat(what, ": interrupted after ", i, " of ", count, " ", units, " finished"));
    if (i == count) break;
    if (i + 1 == sigint_unit) std::raise(SIGINT);
    unit(i);
  }
}

}  // namespace xraylift::core
