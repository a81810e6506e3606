// One rank of the data-parallel tests (tests/train/test_distributed.cpp launches it), under the torchrun variables
// it was started with. Two modes:
//   dist_worker train OUT BACKEND STEPS STOP_AFTER [--sgd] [--own-folder] [--fail RANK STEP]
//     a small MLP regressing a line with the generic Trainer; writes its final parameters to OUT/params_rank<R>.pt
//     and prints the steps it trained ("steps START..END"). --sgd: a step proportional to the gradient (below);
//     --own-folder: the Trainer writes into OUT/rank<R> instead of OUT, so the test sees what each rank wrote;
//     --fail: rank RANK throws at its STEP-th loss call.
//   dist_worker collectives OUT BACKEND
//     the Communicator's collectives on known per-rank tensors (collective_inputs below); writes the results to
//     OUT/collectives_rank<R>.pt: the averaged gradients of three parameters, a summed tensor, a broadcast one.
#include <torch/torch.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "line_dataset.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/train/trainer.hpp"

using namespace xraylift;
using namespace xraylift::train;

namespace {

using xraylift::testing::LineDataset;

// With beta1 = 0 and an epsilon far above sqrt(v) (|g| < 10 here), AdamW's step is lr / eps * g to 1e-5: plain SGD
// at lr / eps. Its step scales with the gradient, so a gradient all-reduce that sums instead of averaging doubles
// it, where Adam's normalised step would not change.
constexpr double kSgdEpsilon = 1e6;

DistOptions dist_options(const std::string& backend) {
  DistOptions o;
  o.backend = backend;
  o.bucket_mb = 0.0001;  // ~100 bytes: several buckets for this tiny model
  o.timeout_s = 30;
  return o;
}

int train_mode(int argc, char** argv) {
  if (argc < 6) throw core::ConfigError("usage: dist_worker train OUT BACKEND STEPS STOP_AFTER [options]");
  const DistEnv env = DistEnv::from_env();
  const std::filesystem::path out = argv[2];
  bool sgd = false, own_folder = false;
  int fail_rank = -1, fail_step = -1;
  for (int i = 6; i < argc; ++i) {
    if (std::strcmp(argv[i], "--sgd") == 0) {
      sgd = true;
    } else if (std::strcmp(argv[i], "--own-folder") == 0) {
      own_folder = true;
    } else if (std::strcmp(argv[i], "--fail") == 0 && i + 2 < argc) {
      fail_rank = std::atoi(argv[i + 1]);
      fail_step = std::atoi(argv[i + 2]);
      i += 2;
    } else {
      throw core::ConfigError(core::cat("dist_worker train: unknown option '", argv[i], "'"));
    }
  }
  TrainerOptions o;
  o.out_dir = own_folder ? out / core::cat("rank", env.rank) : out;
  o.schedule.lr = sgd ? 0.02 * kSgdEpsilon : 0.02;
  o.schedule.total_steps = std::atoi(argv[4]);
  o.stop_after = std::atoi(argv[5]);
  o.schedule.warmup_steps = 2;
  o.weight_decay = sgd ? 0.0 : 0.01;
  if (sgd) {
    o.beta1 = 0;
    o.clip_norm = 0;  // clipping would bound the step whatever the gradient's scale
  }
  o.loader.batch_size = 8;  // the global batch
  o.loader.workers = 1;
  o.loader.seed = 3;
  o.augment.enabled = false;
  o.show_progress = false;
  o.log_every = 2;
  o.config_fingerprint = "dist-test";
  o.distributed = dist_options(argv[3]);
  if (env.enabled()) o.comm = std::make_shared<Communicator>(env, o.distributed, "cpu");
  torch::manual_seed(11);
  torch::nn::Sequential model(torch::nn::Linear(2, 16), torch::nn::Tanh(), torch::nn::Linear(16, 1));
  int calls = 0;
  auto loss = [&](const Batch& b) {
    if (env.rank == fail_rank && calls++ == fail_step)
      throw core::InputError(core::cat("injected failure at step ", fail_step));
    std::vector<torch::Tensor> xs, ys;
    for (const auto& s : b) xs.push_back(s.at("x")), ys.push_back(s.at("y"));
    const auto l = torch::mse_loss(model->forward(torch::stack(xs)), torch::stack(ys));
    return std::map<std::string, torch::Tensor>{{"loss", l}};
  };
  if (env.rank == 0) {  // the weights before training (the test checks that the run moved them)
    std::vector<torch::Tensor> initial;
    for (const auto& p : model->parameters()) initial.push_back(p.detach().clone());
    torch::save(initial, (out / "initial_params.pt").string());
  }
  Trainer trainer(o, model.ptr(), loss);
  if (sgd)
    for (auto& group : trainer.optimizer().param_groups())
      static_cast<torch::optim::AdamWOptions&>(group.options()).eps(kSgdEpsilon);
  const TrainResult result = trainer.fit(LineDataset());
  std::vector<torch::Tensor> params;
  for (const auto& p : model->parameters()) params.push_back(p.detach().clone());
  torch::save(params, (out / core::cat("params_rank", env.rank, ".pt")).string());
  std::cout << "steps " << result.start_step << ".." << result.end_step << "\n";
  if (o.comm)
    std::cout << "backend " << o.comm->backend() << " allreduce_bytes " << o.comm->gradient_bytes() << " buckets "
              << o.comm->gradient_buckets() << "\n";
  return 0;
}

int collectives_mode(int argc, char** argv) {
  if (argc < 4) throw core::ConfigError("usage: dist_worker collectives OUT BACKEND");
  const DistEnv env = DistEnv::from_env();
  XL_CHECK(env.enabled(), "dist_worker collectives: needs RANK and WORLD_SIZE > 1");
  Communicator comm(env, dist_options(argv[3]), "cpu");
  const double r = env.rank;
  // Three parameters over three buckets (float, double, float): rank r's gradients are (r + 1) * (1, 2, ...) and
  // 10 * (r + 1) * (1, 2, ...); the third has a gradient on rank 0 only (the others take part with zeros).
  std::vector<torch::Tensor> params{torch::zeros({5}, torch::requires_grad()),
                                    torch::zeros({2, 3}, torch::dtype(torch::kDouble).requires_grad(true)),
                                    torch::zeros({4}, torch::requires_grad())};
  params[0].mutable_grad() = (r + 1) * torch::arange(1, 6, torch::kFloat);
  params[1].mutable_grad() = 10 * (r + 1) * torch::arange(1, 7, torch::kDouble).view({2, 3});
  if (env.rank == 0) params[2].mutable_grad() = torch::full({4}, 8.0f);
  comm.allreduce_gradients(params);
  std::vector<torch::Tensor> summed{torch::tensor({r + 1, 100 * (r + 1)}, torch::kDouble)};
  comm.allreduce_sum(summed);
  std::vector<torch::Tensor> broadcast{torch::full({3}, 7 * r + 1, torch::kFloat)};
  comm.broadcast(broadcast);
  std::vector<torch::Tensor> results;
  for (const auto& p : params) results.push_back(p.grad().clone());
  results.push_back(summed[0]);
  results.push_back(broadcast[0]);
  torch::save(results, (std::filesystem::path(argv[2]) / core::cat("collectives_rank", env.rank, ".pt")).string());
  comm.barrier("collectives written");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    torch::set_num_threads(1);
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "train") return train_mode(argc, argv);
    if (mode == "collectives") return collectives_mode(argc, argv);
    std::cerr << "usage: dist_worker train|collectives OUT BACKEND ...\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 3;
  }
}
