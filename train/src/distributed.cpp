// Data parallel over c10d: the launcher environment, the rank-0 TCPStore, bucketed gradient all-reduce, failure
// propagation (docs/ARCHITECTURE.md "Training at scale").
#include "xraylift/train/distributed.hpp"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>
#include <cstring>
#include <thread>

#include "process_groups.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/log.hpp"

namespace xraylift::train {

namespace {

constexpr const char* kErrorKey = "xl/error";

bool env_int(const char* name, long long& out) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return false;
  char* end = nullptr;
  out = std::strtoll(v, &end, 10);
  if (end == v || *end != '\0')
    throw core::ConfigError(core::cat("environment variable ", name, "='", v, "' is not an integer"));
  return true;
}

std::vector<std::uint8_t> to_bytes(const torch::Tensor& t) {
  const auto c = t.contiguous().cpu();
  std::vector<std::uint8_t> b(static_cast<std::size_t>(c.numel() * c.element_size()));
  std::memcpy(b.data(), c.data_ptr(), b.size());
  return b;
}

}  // namespace

DistEnv DistEnv::from_env() {
  DistEnv e;
  long long rank = 0, world = 1, local = 0, port = e.master_port;
  const bool has_rank = env_int("RANK", rank), has_world = env_int("WORLD_SIZE", world);
  if (has_rank != has_world && world != 1)
    throw core::ConfigError(core::cat("distributed: ", has_rank ? "RANK" : "WORLD_SIZE", " is set but ",
                                      has_rank ? "WORLD_SIZE" : "RANK", " is not (set both, as torchrun does)"));
  if (world < 1) throw core::ConfigError(core::cat("environment variable WORLD_SIZE=", world, " must be >= 1"));
  if (rank < 0 || rank >= world)
    throw core::ConfigError(core::cat("environment variable RANK=", rank, " must lie in [0, WORLD_SIZE=", world, ")"));
  if (env_int("LOCAL_RANK", local) && local < 0)
    throw core::ConfigError(core::cat("environment variable LOCAL_RANK=", local, " must be >= 0"));
  if (env_int("MASTER_PORT", port) && (port < 1 || port > 65535))
    throw core::ConfigError(core::cat("environment variable MASTER_PORT=", port, " must lie in 1..65535"));
  if (const char* a = std::getenv("MASTER_ADDR"); a != nullptr && *a != '\0') e.master_addr = a;
  e.rank = static_cast<int>(rank);
  e.world_size = static_cast<int>(world);
  e.local_rank = static_cast<int>(local);
  e.master_port = static_cast<int>(port);
  return e;
}

DistOptions DistOptions::from_config(const core::Config& c) {
  DistOptions o;
  o.backend = c.get("backend", o.backend);
  o.timeout_s = c.get("timeout_s", o.timeout_s);
  o.bucket_mb = c.get("bucket_mb", o.bucket_mb);
  if (o.backend != "auto" && o.backend != "nccl" && o.backend != "gloo" && o.backend != "store")
    throw core::ConfigError(core::cat("train.distributed.backend must be auto, nccl, gloo or store, got '", o.backend,
                                      "' (", c.origin("backend"), ")"));
  if (!(o.timeout_s > 0))
    throw core::ConfigError(
        core::cat("train.distributed.timeout_s must be > 0, got ", o.timeout_s, " (", c.origin("timeout_s"), ")"));
  if (!(o.bucket_mb > 0))
    throw core::ConfigError(
        core::cat("train.distributed.bucket_mb must be > 0, got ", o.bucket_mb, " (", c.origin("bucket_mb"), ")"));
  return o;
}

std::vector<std::string> available_backends() {
  std::vector<std::string> out{"store"};
  if (detail::have_gloo()) out.push_back("gloo");
  if (detail::have_nccl()) out.push_back("nccl");
  return out;
}

std::pair<int, int> rank_slots(int global_batch, int rank, int world_size) {
  XL_CHECK(world_size >= 1 && rank >= 0 && rank < world_size, "rank_slots: rank ", rank, " of ", world_size);
  if (global_batch % world_size != 0)
    throw core::ConfigError(core::cat("train.batch_size (the global batch) = ", global_batch,
                                      " must be a multiple of WORLD_SIZE = ", world_size,
                                      " so every rank takes the same share"));
  const int per = global_batch / world_size;
  return {rank * per, (rank + 1) * per};
}

struct Communicator::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::Backend> group;  // null: the store backend
  torch::Device device{torch::kCPU};        // where collective buffers live (CUDA for NCCL)
  std::chrono::milliseconds timeout{300000};
  bool abandoned = false;  // a collective was left pending because a peer failed
};

Communicator::Communicator(DistEnv env, DistOptions options, const std::string& device)
    : env_(std::move(env)), options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  const torch::Device dev(device);
  backend_ = options_.backend;
  if (backend_ == "auto") backend_ = dev.is_cuda() ? "nccl" : (detail::have_gloo() ? "gloo" : "store");
  if (backend_ == "nccl" && !dev.is_cuda())
    throw core::ConfigError(
        core::cat("train.distributed.backend nccl needs a cuda device, got train.device '", device, "'"));
  if (backend_ != "nccl" && dev.is_cuda())
    throw core::ConfigError(core::cat("train.distributed.backend ", backend_, " runs on the CPU; train.device '",
                                      device, "' needs nccl (or auto)"));
  impl_->timeout = std::chrono::milliseconds(static_cast<std::int64_t>(options_.timeout_s * 1000));
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(env_.master_port);
  so.isServer = env_.rank == 0;
  so.numWorkers = env_.world_size;
  so.waitWorkers = true;
  so.timeout = impl_->timeout;
  try {
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env_.master_addr, so);
  } catch (const std::exception& e) {
    throw core::InputError(
        core::cat("distributed: rank ", env_.rank, " cannot reach the rendezvous at MASTER_ADDR=", env_.master_addr,
                  " MASTER_PORT=", env_.master_port, ": ",
                  std::string(e.what()).substr(0, std::min<std::size_t>(std::string(e.what()).find('\n'), 300))));
  }
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("pg", c10::intrusive_ptr<c10d::Store>(impl_->store));
  if (backend_ == "gloo")
    impl_->group =
        detail::make_gloo(prefixed, env_.rank, env_.world_size, impl_->timeout,
                          env_.master_addr == "127.0.0.1" || env_.master_addr == "localhost" ? "127.0.0.1" : "");
  if (backend_ == "nccl") {
    impl_->device = dev;
    impl_->group = detail::make_nccl(prefixed, env_.rank, env_.world_size, impl_->timeout);
  }
  barrier("init");
  if (env_.rank == 0)
    core::log::info("distributed: ", env_.world_size, " ranks, backend ", backend_, ", rendezvous ", env_.master_addr,
                    ":", env_.master_port);
}

Communicator::~Communicator() {
  // A process group with pending work joins its threads forever on destruction: leave it to the process exit.
  if (impl_ && impl_->abandoned) (void)impl_->group.release();
}

void Communicator::rethrow_with_peer(const std::string& what, const std::string& detail) {
  std::string peer;
  try {
    if (impl_->store->check({kErrorKey})) {
      const auto b = impl_->store->get(kErrorKey);
      peer.assign(b.begin(), b.end());
      mark_error_seen();
    }
  } catch (...) {
    // the store's host (rank 0) is gone too: report what we know
  }
  if (!peer.empty()) throw core::InputError(core::cat("distributed: stopping, ", peer));
  throw core::InputError(core::cat("distributed: rank ", env_.rank, " ", what, " failed (a peer may have died): ",
                                   detail.substr(0, std::min<std::size_t>(detail.find('\n'), 400))));
}

void Communicator::mark_error_seen() noexcept {
  try {
    impl_->store->set(core::cat("xl/error_seen/", env_.rank), std::vector<std::uint8_t>{1});
  } catch (...) {}
}

void Communicator::check_peers() {
  bool failed = false;
  try {
    failed = impl_->store->check({kErrorKey});
  } catch (const std::exception& e) {
    rethrow_with_peer("store check", e.what());
  }
  if (failed) rethrow_with_peer("step check", "");
}

void Communicator::publish_failure(const std::string& message) noexcept {
  try {
    const std::string text = core::cat("rank ", env_.rank, " failed: ", message);
    if (!impl_->store->check({kErrorKey})) {
      impl_->store->set(kErrorKey, std::vector<std::uint8_t>(text.begin(), text.end()));
    }
    mark_error_seen();
    if (env_.rank == 0) {
      // Rank 0 hosts the store: keep it up until every peer knows (read the message or failed itself), or 10 s.
      std::vector<std::string> keys;
      for (int r = 1; r < env_.world_size; ++r) keys.push_back(core::cat("xl/error_seen/", r));
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (std::chrono::steady_clock::now() < until && !impl_->store->check(keys))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } catch (...) {
    // best effort: the peers still stop on their collective's error or timeout
  }
}

void Communicator::barrier(const std::string& name) {
  const std::string key = core::cat("xl/barrier/", name, "/", generation_++);
  try {
    impl_->store->add(key, 1);
    const auto start = std::chrono::steady_clock::now();
    auto sleep = std::chrono::microseconds(200);
    while (impl_->store->add(key, 0) < env_.world_size) {
      if (impl_->store->check({kErrorKey})) rethrow_with_peer("barrier", "");
      if (std::chrono::steady_clock::now() - start > impl_->timeout)
        throw core::InputError(core::cat("distributed: rank ", env_.rank, " timed out after ", options_.timeout_s,
                                         " s in barrier '", name, "' (train.distributed.timeout_s)"));
      std::this_thread::sleep_for(sleep);
      sleep = std::min(sleep * 2, std::chrono::microseconds(20000));
    }
    // Rank 0 hosts the store: it leaves last, or a peer still polling would lose its connection.
    impl_->store->add(key + "/left", 1);
    if (env_.rank == 0) {
      const auto start_leave = std::chrono::steady_clock::now();
      while (impl_->store->add(key + "/left", 0) < env_.world_size &&
             std::chrono::steady_clock::now() - start_leave < impl_->timeout)
        std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  } catch (const core::InputError&) {
    throw;
  } catch (const std::exception& e) {
    rethrow_with_peer(core::cat("barrier '", name, "'"), e.what());
  }
}

void Communicator::collective(std::vector<torch::Tensor>& flat, const char* what) {
  if (env_.world_size == 1) return;
  try {
    if (impl_->group) {
      std::vector<c10::intrusive_ptr<c10d::Work>> works;
      for (auto& t : flat) {
        std::vector<at::Tensor> one{t};
        works.push_back(impl_->group->allreduce(one));
      }
      // Poll instead of blocking in wait(): a peer that failed outside the collective never joins it, and its
      // published message must stop us now rather than at the backend's timeout.
      for (auto& w : works) {
        const auto start = std::chrono::steady_clock::now();
        auto sleep = std::chrono::microseconds(50);
        while (!w->isCompleted()) {
          if (impl_->store->check({kErrorKey})) {
            impl_->abandoned = true;  // the work is still pending: see ~Communicator
            rethrow_with_peer(what, "");
          }
          if (std::chrono::steady_clock::now() - start > impl_->timeout)
            throw core::InputError(core::cat("distributed: rank ", env_.rank, " timed out after ", options_.timeout_s,
                                             " s in ", what, " (train.distributed.timeout_s)"));
          std::this_thread::sleep_for(sleep);
          sleep = std::min(sleep * 2, std::chrono::microseconds(5000));
        }
        w->wait();
      }
      return;
    }
    // The store backend: every rank posts its buffers, then sums all ranks' in rank order (identical on every
    // rank, whatever the arrival order). Keys of generation g - 2 are deleted once g - 1 has been read by all.
    const std::int64_t g = generation_++;
    for (std::size_t b = 0; b < flat.size(); ++b)
      impl_->store->set(core::cat("xl/ar/", g, "/", b, "/", env_.rank), to_bytes(flat[b]));
    for (std::size_t b = 0; b < flat.size(); ++b) {
      auto sum = torch::zeros_like(flat[b], torch::TensorOptions().dtype(torch::kDouble).device(torch::kCPU));
      for (int r = 0; r < env_.world_size; ++r) {
        const std::string key = core::cat("xl/ar/", g, "/", b, "/", r);
        const auto start = std::chrono::steady_clock::now();
        auto sleep = std::chrono::microseconds(100);
        while (!impl_->store->check({key})) {
          if (impl_->store->check({kErrorKey})) rethrow_with_peer(what, "");
          if (std::chrono::steady_clock::now() - start > impl_->timeout)
            throw core::InputError(core::cat("distributed: rank ", env_.rank, " timed out after ", options_.timeout_s,
                                             " s waiting for rank ", r, " in ", what,
                                             " (train.distributed.timeout_s)"));
          std::this_thread::sleep_for(sleep);
          sleep = std::min(sleep * 2, std::chrono::microseconds(5000));
        }
        auto bytes = impl_->store->get(key);
        auto part = torch::empty_like(flat[b], torch::TensorOptions().device(torch::kCPU));
        XL_CHECK(bytes.size() == static_cast<std::size_t>(part.numel() * part.element_size()), "distributed: rank ", r,
                 " sent ", bytes.size(), " bytes in ", what, " bucket ", b, ", expected ",
                 part.numel() * part.element_size(), " (ranks run different models or configs?)");
        std::memcpy(part.data_ptr(), bytes.data(), bytes.size());
        sum += part.to(torch::kDouble);
      }
      flat[b].copy_(sum.to(flat[b].scalar_type()));
    }
    if (g >= 1)
      for (std::size_t b = 0; b < flat.size(); ++b)
        impl_->store->deleteKey(core::cat("xl/ar/", g - 1, "/", b, "/", env_.rank));
  } catch (const core::InputError&) {
    throw;
  } catch (const std::exception& e) {
    rethrow_with_peer(what, e.what());
  }
}

void Communicator::allreduce_gradients(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard no_grad;
  const std::int64_t bucket_bytes = static_cast<std::int64_t>(options_.bucket_mb * 1024 * 1024);
  // Buckets: consecutive parameters of one dtype up to bucket_bytes (the order is the model's, equal on all ranks).
  std::vector<std::vector<std::size_t>> buckets;
  std::int64_t filled = 0;
  c10::ScalarType dtype = c10::ScalarType::Undefined;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    const std::int64_t bytes = p.numel() * p.element_size();
    if (buckets.empty() || p.scalar_type() != dtype || filled + bytes > bucket_bytes) {
      buckets.emplace_back();
      filled = 0;
      dtype = p.scalar_type();
    }
    buckets.back().push_back(i);
    filled += bytes;
  }
  std::vector<torch::Tensor> flat;
  gradient_bytes_ = 0;
  for (const auto& bucket : buckets) {
    std::vector<torch::Tensor> parts;
    for (std::size_t i : bucket) {
      const auto& p = params[i];
      parts.push_back(p.grad().defined() ? p.grad().reshape({-1}) : torch::zeros({p.numel()}, p.options()));
    }
    flat.push_back(torch::cat(parts).to(impl_->device));
    gradient_bytes_ += flat.back().numel() * flat.back().element_size();
  }
  gradient_buckets_ = static_cast<int>(flat.size());
  collective(flat, "gradient all-reduce");
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    flat[b].div_(env_.world_size);
    std::int64_t offset = 0;
    for (std::size_t i : buckets[b]) {
      auto p = params[i];
      const auto n = p.numel();
      auto values = flat[b].narrow(0, offset, n).view(p.sizes()).to(p.device());
      if (p.grad().defined())
        p.mutable_grad().copy_(values);
      else
        p.mutable_grad() = values.clone();
      offset += n;
    }
  }
}

void Communicator::allreduce_sum(std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> flat;
  for (auto& t : tensors) flat.push_back(t.detach().reshape({-1}).to(impl_->device).clone());
  collective(flat, "all-reduce");
  for (std::size_t i = 0; i < tensors.size(); ++i) tensors[i].copy_(flat[i].view(tensors[i].sizes()));
}

void Communicator::broadcast(std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  // Zeros on every rank but 0, then a sum: a broadcast with the collectives every backend has.
  std::vector<torch::Tensor> flat;
  for (auto& t : tensors) {
    auto f = t.detach().reshape({-1}).to(impl_->device).clone();
    if (env_.rank != 0) f.zero_();
    flat.push_back(f);
  }
  collective(flat, "broadcast");
  for (std::size_t i = 0; i < tensors.size(); ++i) tensors[i].copy_(flat[i].view(tensors[i].sizes()));
}

}  // namespace xraylift::train
