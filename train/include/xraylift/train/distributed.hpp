#pragma once
// Data-parallel training over torch's c10d (docs/ARCHITECTURE.md "Training at scale"). Every process is an
// ordinary `xraylift train`; a launcher (torchrun, srun wrappers, or a shell loop) sets the torchrun variables
// RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT. Rank 0 hosts a c10d::TCPStore; the collectives go
// through a c10d process group: NCCL for CUDA devices, Gloo on the CPU (when the build found the Gloo headers,
// see scripts/setup.sh), else the built-in "store" backend (bucketed all-reduce through the TCPStore, summed in
// rank order: slow but exact and dependency-free; meant for tests and small CPU runs).
//
// Failure: a rank that throws publishes "rank R: <message>" under a store key before it exits; the others see it
// at their next collective or step check and throw InputError naming that rank and message.
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xraylift/core/config.hpp"

namespace xraylift::train {

// The launcher's environment. world_size 1 (or no RANK/WORLD_SIZE at all) means a single process.
struct DistEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool enabled() const { return world_size > 1; }
  // Reads the torchrun variables; throws ConfigError naming a variable that is malformed or inconsistent
  // (RANK outside [0, WORLD_SIZE), a port outside 1..65535, RANK without WORLD_SIZE, ...).
  static DistEnv from_env();
};

// train.distributed {backend, timeout_s, bucket_mb}.
struct DistOptions {
  std::string backend = "auto";  // auto | nccl | gloo | store (auto: nccl on cuda, gloo on cpu, else store)
  double timeout_s = 300;        // collectives and rendezvous; also how long peers wait on a dead rank
  double bucket_mb = 25;         // gradient all-reduce bucket size (torch DDP's default)
  static DistOptions from_config(const core::Config& section);
};

// Names of the backends this build can use ("store" always; "gloo" and "nccl" when compiled in).
std::vector<std::string> available_backends();

class Communicator {
 public:
  // Connects to the other ranks (rendezvous through MASTER_ADDR:MASTER_PORT). `device` is the training device
  // ("cpu" | "cuda[:N]"): it selects the auto backend.
  Communicator(DistEnv env, DistOptions options, const std::string& device);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  bool is_root() const { return env_.rank == 0; }
  const std::string& backend() const { return backend_; }

  // Averages the gradients of `params` over the ranks in buckets of about bucket_mb (flattened per bucket and
  // dtype). Parameters without a gradient take part as zeros so every rank sends the same buckets.
  void allreduce_gradients(const std::vector<torch::Tensor>& params);
  // Sums each tensor over the ranks in place (small tensors: losses for logging).
  void allreduce_sum(std::vector<torch::Tensor>& tensors);
  // Copies rank 0's values into every rank's tensors (initial weights).
  void broadcast(std::vector<torch::Tensor>& tensors);
  void barrier(const std::string& name);

  // Publishes this rank's failure so the others stop naming it. Root lingers briefly so peers can read it.
  void publish_failure(const std::string& message) noexcept;
  // Throws InputError naming the failed rank when a peer has published a failure (one store round trip).
  void check_peers();

  std::int64_t gradient_bytes() const { return gradient_bytes_; }  // bytes per rank of the last gradient all-reduce
  int gradient_buckets() const { return gradient_buckets_; }

  struct Impl;

 private:
  void collective(std::vector<torch::Tensor>& flat, const char* what);  // sum in place
  void mark_error_seen() noexcept;
  [[noreturn]] void rethrow_with_peer(const std::string& what, const std::string& detail);
  DistEnv env_;
  DistOptions options_;
  std::string backend_;
  std::unique_ptr<Impl> impl_;
  std::int64_t generation_ = 0;
  std::int64_t gradient_bytes_ = 0;
  int gradient_buckets_ = 0;
};

// Global batch slicing: rank r of W takes slots [r * B / W, (r + 1) * B / W) of every step's global batch of B.
// Throws ConfigError when B is not a multiple of W (the distributed run would not equal the single-process one).
std::pair<int, int> rank_slots(int global_batch, int rank, int world_size);

}  // namespace xraylift::train
