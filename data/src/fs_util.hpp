#pragma once
// Removing a folder tree without std::filesystem::remove_all: in the xraylift executable that symbol resolves
// to libtorch's bundled copy, which crashes (null call) with this libstdc++. POSIX nftw has no such clash.
#include <ftw.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace xraylift::data::detail {

inline int remove_entry(const char* path, const struct stat*, int, struct FTW*) { return std::remove(path); }

// Best effort, like remove_all(path, ec): a missing path is fine; returns false when something stayed.
inline bool remove_tree(const std::filesystem::path& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return true;
  return ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0;
}

}  // namespace xraylift::data::detail
