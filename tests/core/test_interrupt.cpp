#include <gtest/gtest.h>

#include <csignal>

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
