#include "xraylift/core/interrupt.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

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

void for_each_unit(const std::string& what, std::size_t count, const std::string& units,
                   const std::function<void(std::size_t)>& unit) {
  for (std::size_t i = 0; i <= count; ++i) {
    if (interrupt_requested())
      throw Interrupted(cat(what, ": interrupted after ", i, " of ", count, " ", units, " finished"));
    if (i < count) unit(i);
  }
}

}  // namespace xraylift::core
