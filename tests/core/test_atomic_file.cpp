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

TEST(AtomicFolder, ReplacesWholeFolderOrNothing) {
  const auto dir = xraylift::testing::scratch_dir("atomic_folder");
  const auto target = dir / "case";
  write_folder_atomic(target, [](const fs::path& tmp) { write_file_atomic(tmp / "a.txt", "v1"); });
  write_folder_atomic(target, [](const fs::path& tmp) { write_file_atomic(tmp / "b.txt", "v2"); });
  EXPECT_FALSE(fs::exists(target / "a.txt"));  // replaced whole, not merged
  EXPECT_EQ(read_file(target / "b.txt"), "v2");
  EXPECT_THROW(write_folder_atomic(target,
                                   [](const fs::path& tmp) {
                                     write_file_atomic(tmp / "c.txt", "half");
                                     throw InputError("disk full");
                                   }),
               InputError);
  EXPECT_EQ(read_file(target / "b.txt"), "v2");  // a failed write leaves the old folder intact
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1);  // no temporary or moved-aside folders left
}

// Catches a cleanup that removes too much (a user's file, a live writer's temporary) or too little (the files
// and folders a killed writer left): before issue 23 nothing removed them at all.
TEST(AtomicFile, StaleTemporariesOfDeadWritersAreRemoved) {
  const auto dir = xraylift::testing::scratch_dir("stale_temporaries");
  // pid 2^22 + 1 is above Linux's largest pid (pid_max <= 2^22): a writer that cannot be running.
  const std::string dead = "4194305";
  write_file_atomic(dir / (".checkpoint.safetensors.tmp." + dead + ".3"), "half a checkpoint");
  fs::create_directories(dir / (".case-1.tmp." + dead + ".0") / "sub");  // write_folder_atomic's temp folder
  const fs::path live = temp_path_for(dir / "pred.json");                // this process: still writing
  write_file_atomic(live, "in progress");
  for (const char* user : {"notes.tmp", ".hidden", "x.tmp.1.2", ".a.tmp.12x.3", ".tmp.1.2"})
    write_file_atomic(dir / user, "user data");
  EXPECT_EQ(remove_stale_temporaries(dir), 2u);
  EXPECT_FALSE(fs::exists(dir / (".checkpoint.safetensors.tmp." + dead + ".3")));
  EXPECT_FALSE(fs::exists(dir / (".case-1.tmp." + dead + ".0")));
  EXPECT_TRUE(fs::exists(live));
  for (const char* user : {"notes.tmp", ".hidden", "x.tmp.1.2", ".a.tmp.12x.3", ".tmp.1.2"})
    EXPECT_TRUE(fs::exists(dir / user)) << user;
  EXPECT_EQ(remove_stale_temporaries(dir / "missing"), 0u);
}
