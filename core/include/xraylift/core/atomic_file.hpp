#pragma once
// Outputs are written atomically: to a temporary file beside the target, then renamed over it, so a crash
// or a full disk never leaves a half-written file under the final name.
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>

namespace xraylift::core {

// Writes bytes to path atomically; creates parent folders. Throws InputError naming the path on failure.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);
std::string read_file(const std::filesystem::path& path);  // throws InputError naming the path

// Stream-style atomic writer: write to stream(), then commit(). Without commit() the temp file is removed.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target, bool binary = true);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  std::ofstream& stream() { return out_; }
  const std::filesystem::path& temp_path() const { return temp_; }
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  std::ofstream out_;
  bool committed_ = false;
};

// A temporary sibling path for target (same folder, so rename is atomic). Used by writers of other libraries
// (OpenCV, DCMTK) that insist on a filename: write there, then commit_temp_file().
std::filesystem::path temp_path_for(const std::filesystem::path& target);
void commit_temp_file(const std::filesystem::path& temp, const std::filesystem::path& target);

// Writes a whole folder atomically: `fill` writes into a fresh temporary sibling folder; on success that folder
// replaces `dir` (an existing `dir` is moved aside, then removed); if `fill` throws, `dir` is left as it was and
// the temporary folder is removed. Readers never see a half-written folder.
void write_folder_atomic(const std::filesystem::path& dir,
                         const std::function<void(const std::filesystem::path& temp_dir)>& fill);

// Temporaries of this file (temp_path_for, AtomicFile, write_folder_atomic) are named
// ".<target name>.tmp.<pid>.<counter>"; a process killed mid-write (kill -9, a second Ctrl-C) leaves them behind.
// Removes the entries of `folder` (not its sub-folders) of exactly that pattern whose <pid> is not a running
// process, files and folders alike, and returns how many. A user's file cannot match by accident: the name starts
// with a dot and ends in ".tmp.<digits>.<digits>". Commands call it on their output folders before writing.
std::size_t remove_stale_temporaries(const std::filesystem::path& folder);

}  // namespace xraylift::core
