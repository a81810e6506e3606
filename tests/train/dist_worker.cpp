// One rank of the data-parallel test (tests/train/test_distributed.cpp launches it): a small MLP regressing a
// line with the generic Trainer, under the torchrun variables it was started with. Writes its final parameters
// to <out>/params_rank<R>.pt. Usage: dist_worker OUT BACKEND STEPS STOP_AFTER [FAIL_RANK FAIL_STEP]
#include <torch/torch.h>

#include <cstdlib>
#include <iostream>

#include "line_dataset.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/train/trainer.hpp"

using namespace xraylift;
using namespace xraylift::train;

namespace {

using xraylift::testing::LineDataset;

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: dist_worker OUT BACKEND STEPS STOP_AFTER [FAIL_RANK FAIL_STEP]\n";
    return 2;
  }
  try {
    torch::set_num_threads(1);
    const DistEnv env = DistEnv::from_env();
    TrainerOptions o;
    o.out_dir = argv[1];
    o.schedule.lr = 0.02;
    o.schedule.total_steps = std::atoi(argv[3]);
    o.stop_after = std::atoi(argv[4]);
    o.schedule.warmup_steps = 2;
    o.weight_decay = 0.01;
    o.loader.batch_size = 8;  // the global batch
    o.loader.workers = 1;
    o.loader.seed = 3;
    o.augment.enabled = false;
    o.show_progress = false;
    o.log_every = 2;
    o.config_fingerprint = "dist-test";
    o.distributed.backend = argv[2];
    o.distributed.bucket_mb = 0.0001;  // ~100 bytes: several buckets for this tiny model
    o.distributed.timeout_s = 30;
    if (env.enabled()) o.comm = std::make_shared<Communicator>(env, o.distributed, "cpu");
    const int fail_rank = argc > 6 ? std::atoi(argv[5]) : -1, fail_step = argc > 6 ? std::atoi(argv[6]) : -1;
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
    Trainer trainer(o, model.ptr(), loss);
    trainer.fit(LineDataset());
    std::vector<torch::Tensor> params;
    for (const auto& p : model->parameters()) params.push_back(p.detach().clone());
    torch::save(params, (std::filesystem::path(argv[1]) / ("params_rank" + std::to_string(env.rank) + ".pt")).string());
    if (o.comm)
      std::cout << "backend " << o.comm->backend() << " allreduce_bytes " << o.comm->gradient_bytes() << " buckets "
                << o.comm->gradient_buckets() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 3;
  }
}
