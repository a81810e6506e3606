#pragma once
// Test helpers shared by every module's tests.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>

namespace xraylift::testing {

// ../shared (or $XRAYLIFT_SHARED_DIR) when it exists.
std::optional<std::filesystem::path> shared_dir();
// ../shared/data/LIDC-IDRI-0001 when it exists.
std::optional<std::filesystem::path> lidc_sample_dir();
// A fresh, empty folder for one test (removed and recreated on each call with the same name), under the build
// tree (build/test-scratch, or $XRAYLIFT_SCRATCH_DIR) so that parallel clones never share it.
std::filesystem::path scratch_dir(const std::string& name);
std::filesystem::path source_dir();

}  // namespace xraylift::testing

// Skips the current test with a clear message when ../shared/data is absent (a user's fresh clone).
#define XL_REQUIRE_LIDC_SAMPLE(var)                                                                 \
  auto var##_opt = ::xraylift::testing::lidc_sample_dir();                                          \
  if (!var##_opt) GTEST_SKIP() << "../shared/data/LIDC-IDRI-0001 is absent (fresh clone): skipped"; \
  const std::filesystem::path var = *var##_opt

// Skips the current test when no CUDA device is usable (CI has none).
#define XL_REQUIRE_CUDA()                         \
  if (!::xraylift::core::cuda_device_available()) \
  GTEST_SKIP() << "no CUDA device here (" << ::xraylift::core::cuda_description() << ")"
