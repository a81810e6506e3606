// Data parallel (train/distributed.hpp) with real processes on the loopback: two ranks equal one process with
// the same global batch (Gloo when built in, and the store backend), a run resumes under another world size,
// a failing rank stops the other naming its error, and the launcher variables are checked.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "xraylift/core/error.hpp"
#include "xraylift/testing/testing.hpp"
#include "xraylift/train/distributed.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  const int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct RankResult {
  int rc = -1;
  std::string log;
};

// Runs `world` worker processes (world 1: no torchrun variables at all) and returns each one's exit code and log.
std::vector<RankResult> launch(int world, const fs::path& out, const std::string& args) {
  fs::create_directories(out);
  const int port = free_port();
  std::string script;
  for (int r = 0; r < world; ++r) {
    const std::string env = world == 1 ? std::string("env -u RANK -u WORLD_SIZE ")
                                       : core::cat("env RANK=", r, " WORLD_SIZE=", world, " LOCAL_RANK=", r,
                                                   " MASTER_ADDR=127.0.0.1 MASTER_PORT=", port, " ");
    script += core::cat("(", env, "'", XRAYLIFT_DIST_WORKER, "' '", out.string(), "' ", args, " > '",
                        (out / core::cat("log", r)).string(), "' 2>&1; echo $? > '",
                        (out / core::cat("rc", r)).string(), "') & ");
  }
  script += "wait\n";
  const fs::path file = out / "launch.sh";
  std::ofstream(file) << script;
  const int status = std::system(("sh '" + file.string() + "'").c_str());
  EXPECT_EQ(status, 0);
  std::vector<RankResult> out_ranks(world);
  for (int r = 0; r < world; ++r) {
    out_ranks[r].rc = std::atoi(slurp(out / core::cat("rc", r)).c_str());
    out_ranks[r].log = slurp(out / core::cat("log", r));
  }
  return out_ranks;
}

std::vector<torch::Tensor> params_of(const fs::path& file) {
  std::vector<torch::Tensor> p;
  torch::load(p, file.string());
  return p;
}

// Largest absolute difference over all parameters.
double max_diff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    d = std::max(d, (a[i] - b[i]).abs().max().item<double>());
  return d;
}

bool have(const std::string& backend) {
  const auto b = train::available_backends();
  return std::find(b.begin(), b.end(), backend) != b.end();
}

// Tolerance: the ranks average float32 gradients of half-batch means (summation order differs from one process's
// mean over the batch), AdamW over 12 steps keeps the difference near float rounding.
constexpr double kTolerance = 2e-5;

void two_ranks_equal_one(const std::string& backend) {
  const fs::path root = xraylift::testing::scratch_dir("dist_" + backend);
  const auto single = launch(1, root / "single", "store 12 -1");
  ASSERT_EQ(single[0].rc, 0) << single[0].log;
  const auto dist = launch(2, root / "dist", backend + " 12 -1");
  for (const auto& r : dist) ASSERT_EQ(r.rc, 0) << r.log;
  EXPECT_NE(dist[0].log.find("backend " + backend), std::string::npos) << dist[0].log;
  const auto a = params_of(root / "single" / "params_rank0.pt");
  const auto b0 = params_of(root / "dist" / "params_rank0.pt"), b1 = params_of(root / "dist" / "params_rank1.pt");
  EXPECT_EQ(max_diff(b0, b1), 0.0) << "the ranks' weights must stay identical";
  EXPECT_LT(max_diff(a, b0), kTolerance);
  // Only rank 0 wrote the run's files.
  EXPECT_TRUE(fs::exists(root / "dist" / "checkpoint.pt"));
  EXPECT_NE(slurp(root / "dist" / "metrics.jsonl").find("\"world_size\":2"), std::string::npos);
}

}  // namespace

TEST(DistEnv, ReadsTorchrunVariablesAndRejectsBadOnes) {
  ::setenv("RANK", "1", 1);
  ::setenv("WORLD_SIZE", "4", 1);
  ::setenv("LOCAL_RANK", "1", 1);
  ::setenv("MASTER_ADDR", "10.0.0.7", 1);
  ::setenv("MASTER_PORT", "29123", 1);
  auto e = train::DistEnv::from_env();
  EXPECT_EQ(e.rank, 1);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.master_addr, "10.0.0.7");
  EXPECT_EQ(e.master_port, 29123);
  EXPECT_TRUE(e.enabled());
  ::setenv("RANK", "4", 1);
  EXPECT_THROW(train::DistEnv::from_env(), core::ConfigError);
  ::setenv("RANK", "x", 1);
  EXPECT_THROW(train::DistEnv::from_env(), core::ConfigError);
  ::setenv("RANK", "0", 1);
  ::setenv("MASTER_PORT", "70000", 1);
  EXPECT_THROW(train::DistEnv::from_env(), core::ConfigError);
  for (const char* k : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(k);
  e = train::DistEnv::from_env();
  EXPECT_EQ(e.world_size, 1);
  EXPECT_FALSE(e.enabled());
}

TEST(DistEnv, GlobalBatchSlices) {
  EXPECT_EQ(train::rank_slots(8, 0, 2), std::make_pair(0, 4));
  EXPECT_EQ(train::rank_slots(8, 1, 2), std::make_pair(4, 8));
  EXPECT_THROW(train::rank_slots(6, 0, 4), core::ConfigError);
}

TEST(Distributed, TwoStoreRanksEqualOneProcess) { two_ranks_equal_one("store"); }

TEST(Distributed, TwoGlooRanksEqualOneProcess) {
  if (!have("gloo")) GTEST_SKIP() << "this build has no Gloo headers (scripts/setup.sh provides them)";
  two_ranks_equal_one("gloo");
}

TEST(Distributed, ResumesUnderAnotherWorldSize) {
  const fs::path root = xraylift::testing::scratch_dir("dist_resume");
  const auto single = launch(1, root / "single", "store 12 -1");
  ASSERT_EQ(single[0].rc, 0) << single[0].log;
  // Two ranks run 6 steps, then one process finishes the run from their checkpoint.
  const auto first = launch(2, root / "mixed", "store 12 6");
  for (const auto& r : first) ASSERT_EQ(r.rc, 0) << r.log;
  const auto second = launch(1, root / "mixed", "store 12 -1");
  ASSERT_EQ(second[0].rc, 0) << second[0].log;
  EXPECT_LT(max_diff(params_of(root / "single" / "params_rank0.pt"), params_of(root / "mixed" / "params_rank0.pt")),
            kTolerance);
}

TEST(Distributed, AFailingRankStopsAllNamingItsError) {
  std::vector<std::string> backends{"store"};
  if (have("gloo")) backends.push_back("gloo");
  for (const auto& backend : backends)
    for (int failing : {1, 0}) {
      const fs::path root = xraylift::testing::scratch_dir(core::cat("dist_fail_", backend, failing));
      const auto ranks = launch(2, root, core::cat(backend, " 40 -1 ", failing, " 3"));
      const int other = 1 - failing;
      EXPECT_NE(ranks[failing].rc, 0);
      EXPECT_NE(ranks[failing].log.find("injected failure at step 3"), std::string::npos) << ranks[failing].log;
      EXPECT_NE(ranks[other].rc, 0) << ranks[other].log;
      EXPECT_NE(ranks[other].log.find(core::cat("rank ", failing, " failed: injected failure at step 3")),
                std::string::npos)
          << ranks[other].log;
    }
}
