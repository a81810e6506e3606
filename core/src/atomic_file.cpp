#include "xraylift/core/atomic_file.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <regex>
#include <sstream>
#include <vector>

#include "xraylift/core/error.hpp"

namespace fs = std::filesystem;

namespace xraylift::core {

fs::path temp_path_for(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  return parent / cat(".", target.filename().string(), ".tmp.", ::getpid(), ".", counter.fetch_add(1));
}

void commit_temp_file(const fs::path& temp, const fs::path& target) {
  std::error_code ec;
  fs::rename(temp, target, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw InputError(cat("cannot write '", target.string(), "': rename from temporary file failed"));
  }
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  AtomicFile file(path);
  file.stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.commit();
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(cat("cannot open '", path.string(), "': ", std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_folder_atomic(const fs::path& dir, const std::function<void(const fs::path&)>& fill) {
  const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw InputError(cat("cannot create folder '", parent.string(), "': ", ec.message()));
  const fs::path temp = temp_path_for(dir);
  const fs::path old = temp_path_for(dir.string() + ".old");
  fs::remove_all(temp, ec);
  try {
    fs::create_directories(temp);
    fill(temp);
    if (fs::exists(dir)) fs::rename(dir, old);
    fs::rename(temp, dir);
  } catch (...) {
    fs::remove_all(temp, ec);
    if (!fs::exists(dir) && fs::exists(old)) fs::rename(old, dir, ec);
    throw;
  }
  fs::remove_all(old, ec);
}

std::size_t remove_stale_temporaries(const fs::path& folder) {
  static const std::regex kPattern(R"(^\..+\.tmp\.([0-9]{1,9})\.[0-9]+$)");
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return 0;
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, kPattern)) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(m[1].str()));
    // Only a writer that no longer runs: another live process (a parallel run into the same folder) keeps its
    // temporaries. kill(pid, 0) probes without sending anything.
    const bool running = pid == ::getpid() || ::kill(pid, 0) == 0 || errno == EPERM;
    if (!running) stale.push_back(it->path());
  }
  for (const auto& p : stale) fs::remove_all(p, ec);
  return stale.size();
}

AtomicFile::AtomicFile(fs::path target, bool binary) : target_(std::move(target)) {
  if (target_.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target_.parent_path(), ec);
    if (ec) throw InputError(cat("cannot create folder '", target_.parent_path().string(), "': ", ec.message()));
  }
  temp_ = temp_path_for(target_);
  out_.open(temp_, binary ? std::ios::binary | std::ios::out | std::ios::trunc : std::ios::out | std::ios::trunc);
  if (!out_) throw InputError(cat("cannot write '", target_.string(), "': ", std::strerror(errno)));
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    out_.close();
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicFile::commit() {
  out_.flush();
  const bool ok = static_cast<bool>(out_);
  out_.close();
  if (!ok) {
    std::error_code ec;
    fs::remove(temp_, ec);
    throw InputError(cat("cannot write '", target_.string(), "': write failed (disk full?)"));
  }
  commit_temp_file(temp_, target_);
  committed_ = true;
}

}  // namespace xraylift::core
