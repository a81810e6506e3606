#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <vector>

#include "xraylift/core/interrupt.hpp"

using namespace xraylift;

namespace {

TEST(Interrupt, RequestIsSeenAndCleared) {
  core::clear_interrupt();
  EXPECT_FALSE(core::interrupt_requested());
  EXPECT_NO_THROW(core::throw_if_interrupted("job"));
  core::request_interrupt();
  EXPECT_TRUE(core::interrupt_requested());
  try {
    core::throw_if_interrupted("render: after 2 of 5 case(s)");
    FAIL() << "expected Interrupted";
  } catch (const core::Interrupted& e) {
    EXPECT_STREQ(e.what(), "render: after 2 of 5 case(s): interrupted");
  }
  core::clear_interrupt();
  EXPECT_FALSE(core::interrupt_requested());
}

TEST(Interrupt, FirstSigintOnlyRequestsAStop) {
  core::clear_interrupt();
  core::install_interrupt_handlers();
  std::raise(SIGINT);  // handled: the process goes on
  EXPECT_TRUE(core::interrupt_requested());
  core::clear_interrupt();
  std::raise(SIGTERM);
  EXPECT_TRUE(core::interrupt_requested());
  core::clear_interrupt();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

TEST(InterruptDeathTest, SecondSigintEndsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        core::clear_interrupt();
        core::install_interrupt_handlers();
        std::raise(SIGINT);
        std::raise(SIGINT);
        std::_Exit(0);  // not reached
      },
      testing::KilledBySignal(SIGINT), "");
}

}  // namespace

namespace {
// Catches a unit loop that checks for a stop only before each unit: a Ctrl-C during the last case of render or
// predict ended with exit 0 (issue 23).
TEST(Interrupt, ForEachUnitStopsAfterTheLastUnitAndSaysWhatFinished) {
  core::clear_interrupt();
  std::vector<std::size_t> done;
  core::for_each_unit("render", 3, "case(s)", [&](std::size_t i) { done.push_back(i); });
  EXPECT_EQ(done, (std::vector<std::size_t>{0, 1, 2}));
  done.clear();
  try {
    core::for_each_unit("render", 3, "case(s)", [&](std::size_t i) {
      done.push_back(i);
      if (i == 2) core::request_interrupt();  // Ctrl-C during the last unit
    });
    ADD_FAILURE() << "an interrupt during the last unit was lost";
  } catch (const core::Interrupted& e) {
    EXPECT_STREQ(e.what(), "render: interrupted after 3 of 3 case(s) finished");
  }
  EXPECT_EQ(done.size(), 3u);
  core::clear_interrupt();
  done.clear();
  try {
    core::for_each_unit("render", 3, "case(s)", [&](std::size_t i) {
      done.push_back(i);
      if (i == 0) core::request_interrupt();
    });
    ADD_FAILURE() << "not interrupted";
  } catch (const core::Interrupted& e) {
    EXPECT_STREQ(e.what(), "render: interrupted after 1 of 3 case(s) finished");
  }
  EXPECT_EQ(done.size(), 1u);
  core::clear_interrupt();
}

// Catches a test hook (XRAYLIFT_TEST_SIGINT_DURING_UNIT, what reliability_render_sigint_during_units relies on)
// that raises at the wrong unit or after it: the real SIGINT must be pending while unit K runs, not before unit
// K - 1 nor after unit K; and a value that is not a number must send nothing.
TEST(Interrupt, TestHookRaisesARealSigintJustBeforeUnitK) {
  core::clear_interrupt();
  core::install_interrupt_handlers();
  std::vector<bool> pending_at_start;
  const auto unit = [&](std::size_t) { pending_at_start.push_back(core::interrupt_requested()); };
  setenv("XRAYLIFT_TEST_SIGINT_DURING_UNIT", "2", 1);
  try {
    core::for_each_unit("render", 3, "case(s)", unit);
    ADD_FAILURE() << "the hook sent no SIGINT";
  } catch (const core::Interrupted& e) {
    EXPECT_STREQ(e.what(), "render: interrupted after 2 of 3 case(s) finished");
  }
  EXPECT_EQ(pending_at_start, (std::vector<bool>{false, true}));
  core::clear_interrupt();
  pending_at_start.clear();
  setenv("XRAYLIFT_TEST_SIGINT_DURING_UNIT", "2x", 1);
  EXPECT_NO_THROW(core::for_each_unit("render", 3, "case(s)", unit));
  EXPECT_EQ(pending_at_start, (std::vector<bool>{false, false, false}));
  unsetenv("XRAYLIFT_TEST_SIGINT_DURING_UNIT");
  core::clear_interrupt();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}
}  // namespace
