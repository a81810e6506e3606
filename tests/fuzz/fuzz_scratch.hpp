#pragma once
// Where harnesses that need files write them: a memory-backed folder when there is one (a file per execution).
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace xraylift::fuzz {

inline std::filesystem::path scratch_root() {
  return std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                   : std::filesystem::temp_directory_path();
}

namespace detail {
inline std::filesystem::path& created_folder() {
  static std::filesystem::path folder;
  return folder;
}
inline void remove_created_folder() {
  std::error_code ec;
  std::filesystem::remove_all(created_folder(), ec);
}
}  // namespace detail

// This process's own folder under scratch_root() (parallel fuzzing jobs do not share files), created, and removed
// again when the process exits normally (a replay in ctest, a fuzzing run that reached -runs or -max_total_time):
// without that, every `fuzz_replay_*` run left one folder per harness in /dev/shm. A crash keeps it.
inline std::filesystem::path scratch_folder(const std::string& harness) {
  const auto folder = scratch_root() / ("xraylift-fuzz-" + harness + "-" + std::to_string(getpid()));
  std::filesystem::create_directories(folder);
  detail::created_folder() = folder;
  std::atexit(detail::remove_created_folder);
  return folder;
}

// Writes one input (the fuzzer's bytes) to `path`, replacing what was there.
inline void write_input(const std::filesystem::path& path, const void* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}
inline void write_input(const std::filesystem::path& path, const std::string& bytes) {
  write_input(path, bytes.data(), bytes.size());
}

}  // namespace xraylift::fuzz
