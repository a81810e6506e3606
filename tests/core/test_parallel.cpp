#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <numeric>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "xraylift/core/parallel.hpp"

using namespace xraylift;

namespace {

// Restores the process-wide thread count whatever a test sets.
struct ThreadCountScope {
  ~ThreadCountScope() { core::set_thread_count(0); }
};

TEST(ParallelFor, VisitsEveryIndexOnceForAnyThreadCountAndGrain) {
  for (int threads : {1, 2, 3, 8})
    for (std::int64_t grain : {1, 3, 64, 1000}) {
      const std::int64_t n = 1001;
      std::vector<std::atomic<int>> hits(n);
      core::parallel_for(
          n, [&](std::int64_t i) { hits[i]++; }, threads, grain);
      for (std::int64_t i = 0; i < n; ++i)
        ASSERT_EQ(hits[i].load(), 1) << "index " << i << ", threads " << threads << ", grain " << grain;
    }
}

TEST(ParallelFor, ChunksCoverTheRangeWithoutOverlap) {
  std::mutex m;
  std::vector<std::pair<std::int64_t, std::int64_t>> chunks;
  core::parallel_for_chunks(
      5, 50, 7,
      [&](std::int64_t b, std::int64_t e) {
        std::lock_guard<std::mutex> lock(m);
        chunks.emplace_back(b, e);
      },
      4);
  std::sort(chunks.begin(), chunks.end());
  std::int64_t next = 5;
  for (const auto& [b, e] : chunks) {
    EXPECT_EQ(b, next);
    EXPECT_LE(e - b, 7);
    EXPECT_GT(e, b);
    next = e;
  }
  EXPECT_EQ(next, 50);
}

TEST(ParallelFor, EmptyRangeCallsNothing) {
  int calls = 0;
  core::parallel_for(
      0, [&](std::int64_t) { ++calls; }, 4);
  core::parallel_for_chunks(
      10, 3, 1, [&](std::int64_t, std::int64_t) { ++calls; }, 4);
  EXPECT_EQ(calls, 0);
}

TEST(ParallelFor, UsesSeveralThreadsWhenAsked) {
  std::mutex m;
  std::set<std::thread::id> ids;
  std::atomic<int> arrived{0};
  // Each of the two tasks waits until both have started: they can only finish on two threads.
  core::parallel_for(
      2,
      [&](std::int64_t) {
        {
          std::lock_guard<std::mutex> lock(m);
          ids.insert(std::this_thread::get_id());
        }
        arrived++;
        // Bounded, so a loop that runs both tasks on one thread fails below instead of hanging.
        for (long spin = 0; arrived.load() < 2 && spin < 200'000'000; ++spin) std::this_thread::yield();
      },
      2);
  EXPECT_EQ(ids.size(), 2u);
}

TEST(ParallelFor, ForwardsTheWorkersExceptionWithItsTypeAndMessage) {
  for (int threads : {1, 2, 4}) {
    try {
      core::parallel_for(
          1000,
          [&](std::int64_t i) {
            if (i == 3) throw std::invalid_argument("bad item 3");
          },
          threads);
      FAIL() << "expected the worker's exception (threads " << threads << ")";
    } catch (const std::invalid_argument& e) {
      EXPECT_STREQ(e.what(), "bad item 3");  // the original type and message, not a wrapper
    }
  }
}

TEST(ParallelFor, InlineWhenOneThread) {
  const auto caller = std::this_thread::get_id();
  bool same = true;
  core::parallel_for(
      100, [&](std::int64_t) { same = same && std::this_thread::get_id() == caller; }, 1);
  EXPECT_TRUE(same);
}

TEST(ThreadCount, OneSettingForEveryLoop) {
  ThreadCountScope restore;
  core::set_thread_count(0);
  EXPECT_EQ(core::thread_count(), static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  core::set_thread_count(3);
  EXPECT_EQ(core::thread_count(), 3);
  EXPECT_EQ(core::thread_count(5), 5);  // an explicit request wins
  // With the setting at 1, a loop without a count runs on the caller only.
  core::set_thread_count(1);
  const auto caller = std::this_thread::get_id();
  bool same = true;
  core::parallel_for(64, [&](std::int64_t) { same = same && std::this_thread::get_id() == caller; });
  EXPECT_TRUE(same);
  EXPECT_THROW(core::set_thread_count(-1), std::runtime_error);
}

}  // namespace
