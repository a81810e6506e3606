#include "xraylift/testing/testing.hpp"

#include <cstdlib>

namespace fs = std::filesystem;

namespace xraylift::testing {

fs::path source_dir() {
  const char* env = std::getenv("XRAYLIFT_SOURCE_DIR");
  return env ? fs::path(env) : fs::path(XRAYLIFT_SOURCE_DIR_DEFAULT);
}

std::optional<fs::path> shared_dir() {
  const char* env = std::getenv("XRAYLIFT_SHARED_DIR");
  const fs::path p = env ? fs::path(env) : fs::path(XRAYLIFT_SHARED_DIR_DEFAULT);
  if (fs::is_directory(p)) return p;
  return std::nullopt;
}

std::optional<fs::path> lidc_sample_dir() {
  auto s = shared_dir();
  if (!s) return std::nullopt;
  const fs::path p = *s / "data" / "LIDC-IDRI-0001";
  if (fs::is_directory(p)) return p;
  return std::nullopt;
}

fs::path scratch_dir(const std::string& name) {
  // Inside the build tree, so that two clones (or CI and a developer) running the suite at once never share
  // a folder; XRAYLIFT_SCRATCH_DIR moves it.
  const char* env = std::getenv("XRAYLIFT_SCRATCH_DIR");
  const fs::path p = (env ? fs::path(env) : fs::path(XRAYLIFT_SCRATCH_DIR_DEFAULT)) / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

}  // namespace xraylift::testing
