#include "xraylift/core/atomic_file.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
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

namespace {

// Test-only (docs/RELIABILITY.md "Interrupted runs"): XRAYLIFT_TEST_FAIL_AFTER_FILES=N lets the first N files of the
// process be committed and makes every later commit fail like a full disk, so that a CLI test can check that a
// failure in the middle of a unit of output (a case folder) leaves no half of it. Unset (or not a number): off.
long long files_before_injected_failure() {
  static const long long limit = [] {
    const char* text = std::getenv("XRAYLIFT_TEST_FAIL_AFTER_FILES");
    if (!text || !*text) return -1LL;
    char* end = nullptr;
    const long long n = std::strtoll(text, &end, 10);
    return *end == '\0' && n >= 0 ? n : -1LL;
  }();
  return limit;
}

std::atomic<long long> files_committed{0};

}  // namespace

void commit_temp_file(const fs::path& temp, const fs::path& target) {
  std::error_code ec;
  const long long limit = files_before_injected_failure();
  if (limit >= 0 && files_committed.fetch_add(1) >= limit) {
    fs::remove(temp, ec);
    throw InputError(cat("cannot write '", target.string(), "': write failed (test-only failure injected after ", limit,
                         " file(s) by XRAYLIFT_TEST_FAIL_AFTER_FILES)"));
  }
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
