#pragma once
// Where harnesses that need files write them: a memory-backed folder when there is one (a file per execution).
#include <filesystem>

namespace xraylift::fuzz {

inline std::filesystem::path scratch_root() {
  return std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                   : std::filesystem::temp_directory_path();
}

}  // namespace xraylift::fuzz
