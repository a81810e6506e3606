#include <gtest/gtest.h>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift::core;
namespace fs = std::filesystem;

TEST(AtomicFile, CommitReplacesAndAbortLeavesNothing) {
  const auto dir = xraylift::testing::scratch_dir("atomic");
  write_file_atomic(dir / "sub" / "a.txt", "first");
  write_file_atomic(dir / "sub" / "a.txt", "second");
  EXPECT_EQ(read_file(dir / "sub" / "a.txt"), "second");
  {
    AtomicFile f(dir / "b.txt");
    f.stream() << "never committed";
  }
  EXPECT_FALSE(fs::exists(dir / "b.txt"));
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::recursive_directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 2);  // sub/ and sub/a.txt: no temporary left behind
  EXPECT_THROW(read_file(dir / "missing.txt"), InputError);
}
