#pragma once
// Ctrl-C (SIGINT) and SIGTERM: the first one asks long jobs to stop at their next safe point (between training
// steps, between cases); every output is written atomically (atomic_file.hpp), so what was finished stays
// complete and nothing half-written is left. A second signal ends the process at once. The CLI exits with
// ExitCode::kInterrupted (130) after an Interrupted exception.
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>

namespace xraylift::core {

class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Installs the handlers for SIGINT and SIGTERM (the CLI does this once at start).
void install_interrupt_handlers();
// What the handler does; also for tests and for embedding applications with their own signal handling.
void request_interrupt();
bool interrupt_requested();
void clear_interrupt();
// Throws Interrupted("<where>: interrupted") when a stop was requested.
void throw_if_interrupted(const std::string& where);

// The loop of a command over its units of output (cases, views): before each unit it stops when asked, and
// after the last one too, so that an interrupt received during the last unit still ends in Interrupted (exit
// 130) rather than 0. The message says what finished: "<what>: interrupted after K of N <units> finished".
void for_each_unit(const std::string& what, std::size_t count, const std::string& units,
                   const std::function<void(std::size_t index)>& unit);

}  // namespace xraylift::core
