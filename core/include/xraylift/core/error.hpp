#pragma once
// Errors at public entries: every message names where (file, field), the value seen and what was expected.
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace xraylift::core {

// Concatenates anything streamable; keeps error sites one line long.
template <typename... Args>
std::string cat(Args&&... args) {
  std::ostringstream os;
  os.precision(10);
  (os << ... << std::forward<Args>(args));
  return os.str();
}

// Exit codes of the CLI mean the same everywhere (tools/ maps exceptions to them).
enum class ExitCode : int {
  kOk = 0,
  kFailure = 1,    // a run failed for another reason
  kUsage = 2,      // bad command line or configuration
  kInputData = 3,  // input data is malformed or inconsistent
  kInterrupted = 130,
};

// Bad input from a user or a file: the message says what and where.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad configuration (unknown key, wrong type, missing file).
class ConfigError : public InputError {
 public:
  using InputError::InputError;
};

}  // namespace xraylift::core

// Checks an argument of a public entry; throws InputError with the message parts concatenated.
#define XL_CHECK(cond, ...)                                                              \
  do {                                                                                   \
    if (!(cond)) throw ::xraylift::core::InputError(::xraylift::core::cat(__VA_ARGS__)); \
  } while (0)
