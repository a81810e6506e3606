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

// Runs `world` worker processes (world 1: no torchrun variables at all) with `args`, where {out} stands for the
// quoted folder `out`, and returns each one's exit code and log.
std::vector<RankResult> launch(int world, const fs::path& out, const std::string& args) {
  fs::create_directories(out);
  std::string with_out = args;
  const std::string placeholder = "{out}";
  with_out.replace(with_out.find(placeholder), placeholder.size(), "'" + out.string() + "'");
  const int port = free_port();
  std::string script;
  for (int r = 0; r < world; ++r) {
    const std::string env = world == 1 ? std::string("env -u RANK -u WORLD_SIZE ")
                                       : core::cat("env RANK=", r, " WORLD_SIZE=", world, " LOCAL_RANK=", r,
                                                   " MASTER_ADDR=127.0.0.1 MASTER_PORT=", port, " ");
    script +=
        core::cat("(", env, "'", XRAYLIFT_DIST_WORKER, "' ", with_out, " > '", (out / core::cat("log", r)).string(),
                  "' 2>&1; echo $? > '", (out / core::cat("rc", r)).string(), "') & ");
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

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// Two ranks equal one process with the same global batch, under an optimizer whose step scales with the gradient
// (dist_worker --sgd): averaging the ranks' gradients is what makes them equal, a sum would double every step.
void two_ranks_equal_one(const std::string& backend) {
  const fs::path root = xraylift::testing::scratch_dir("dist_" + backend);
  const auto single = launch(1, root / "single", "train {out} store 12 -1 --sgd");
  ASSERT_EQ(single[0].rc, 0) << single[0].log;
  const auto dist = launch(2, root / "dist", "train {out} " + backend + " 12 -1 --sgd --own-folder");
  for (const auto& r : dist) ASSERT_EQ(r.rc, 0) << r.log;
  EXPECT_NE(dist[0].log.find("backend " + backend), std::string::npos) << dist[0].log;
  const auto a = params_of(root / "single" / "params_rank0.pt");
  const auto b0 = params_of(root / "dist" / "params_rank0.pt"), b1 = params_of(root / "dist" / "params_rank1.pt");
  EXPECT_EQ(max_diff(b0, b1), 0.0) << "the ranks' weights must stay identical";
  EXPECT_LT(max_diff(a, b0), kTolerance);
  EXPECT_GT(max_diff(a, params_of(root / "single" / "initial_params.pt")), 100 * kTolerance)
      << "the run must move the weights by far more than the tolerance";
  // Each rank trained into its own folder: rank 0 wrote the run's files, one metrics line per 2 steps of the
  // 2-rank run; rank 1 wrote nothing.
  EXPECT_TRUE(fs::is_regular_file(root / "dist" / "rank0" / "checkpoint.safetensors"));
  const std::string metrics = slurp(root / "dist" / "rank0" / "metrics.jsonl");
  EXPECT_EQ(count_of(metrics, "\n"), 6u) << metrics;
  EXPECT_EQ(count_of(metrics, "\"world_size\":2"), 6u) << metrics;
  EXPECT_NE(metrics.find("\"step\":12"), std::string::npos) << metrics;
  EXPECT_TRUE(!fs::exists(root / "dist" / "rank1") || fs::is_empty(root / "dist" / "rank1"))
      << "rank 1 wrote into its run folder";
}

// The Communicator's collectives on three ranks (dist_worker collectives): rank r holds gradients (r + 1) * g and
// 10 (r + 1) * h, one parameter has a gradient on rank 0 only, a tensor (r + 1, 100 (r + 1)) is summed and
// 7 r + 1 broadcast from rank 0.
void collectives_on_three_ranks(const std::string& backend) {
  const fs::path root = xraylift::testing::scratch_dir("dist_collectives_" + backend);
  const auto ranks = launch(3, root, "collectives {out} " + backend);
  for (const auto& r : ranks) ASSERT_EQ(r.rc, 0) << r.log;
  const double mean_factor = (1.0 + 2.0 + 3.0) / 3;  // the mean of r + 1 over r = 0, 1, 2
  const auto g = torch::arange(1, 6, torch::kFloat), h = torch::arange(1, 7, torch::kDouble).view({2, 3});
  for (int r = 0; r < 3; ++r) {
    const auto got = params_of(root / core::cat("collectives_rank", r, ".pt"));
    ASSERT_EQ(got.size(), 5u);
    EXPECT_TRUE(torch::allclose(got[0], mean_factor * g)) << "rank " << r << ": " << got[0];
    EXPECT_EQ(got[1].scalar_type(), torch::kDouble);
    EXPECT_TRUE(torch::allclose(got[1], 10 * mean_factor * h)) << "rank " << r << ": " << got[1];
    EXPECT_TRUE(torch::allclose(got[2], torch::full({4}, 8.0f / 3))) << "rank " << r << ": " << got[2];
    EXPECT_TRUE(torch::allclose(got[3], torch::tensor({6.0, 600.0}, torch::kDouble))) << "rank " << r << ": " << got[3];
    EXPECT_TRUE(torch::equal(got[4], torch::full({3}, 1.0f))) << "rank " << r << ": " << got[4];
  }
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

TEST(Distributed, StoreCollectivesAverageSumAndBroadcast) { collectives_on_three_ranks("store"); }

TEST(Distributed, GlooCollectivesAverageSumAndBroadcast) {
  if (!have("gloo")) GTEST_SKIP() << "this build has no Gloo headers (scripts/setup.sh provides them)";
  collectives_on_three_ranks("gloo");
}

TEST(Distributed, TwoStoreRanksEqualOneProcess) { two_ranks_equal_one("store"); }

TEST(Distributed, TwoGlooRanksEqualOneProcess) {
  if (!have("gloo")) GTEST_SKIP() << "this build has no Gloo headers (scripts/setup.sh provides them)";
  two_ranks_equal_one("gloo");
}

TEST(Distributed, ResumesUnderAnotherWorldSize) {
  const fs::path root = xraylift::testing::scratch_dir("dist_resume");
  const auto single = launch(1, root / "single", "train {out} store 12 -1");
  ASSERT_EQ(single[0].rc, 0) << single[0].log;
  // Two ranks run 6 steps, then one process finishes the run from their checkpoint: it must continue at step 6
  // (a restart from step 0 would reach the same weights).
  const auto first = launch(2, root / "mixed", "train {out} store 12 6");
  for (const auto& r : first) {
    ASSERT_EQ(r.rc, 0) << r.log;
    EXPECT_NE(r.log.find("steps 0..6"), std::string::npos) << r.log;
  }
  const auto second = launch(1, root / "mixed", "train {out} store 12 -1");
  ASSERT_EQ(second[0].rc, 0) << second[0].log;
  EXPECT_NE(second[0].log.find("steps 6..12"), std::string::npos) << second[0].log;
  EXPECT_LT(max_diff(params_of(root / "single" / "params_rank0.pt"), params_of(root / "mixed" / "params_rank0.pt")),
            kTolerance);
}

TEST(Distributed, AFailingRankStopsAllNamingItsError) {
  std::vector<std::string> backends{"store"};
  if (have("gloo")) backends.push_back("gloo");
  for (const auto& backend : backends)
    for (int failing : {1, 0}) {
      const fs::path root = xraylift::testing::scratch_dir(core::cat("dist_fail_", backend, failing));
      const auto ranks = launch(2, root, core::cat("train {out} ", backend, " 40 -1 --fail ", failing, " 3"));
      const int other = 1 - failing;
      EXPECT_NE(ranks[failing].rc, 0);
      EXPECT_NE(ranks[failing].log.find("injected failure at step 3"), std::string::npos) << ranks[failing].log;
      EXPECT_NE(ranks[other].rc, 0) << ranks[other].log;
      EXPECT_NE(ranks[other].log.find(core::cat("rank ", failing, " failed: injected failure at step 3")),
                std::string::npos)
          << ranks[other].log;
    }
}
