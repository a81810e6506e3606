#include "xraylift/core/parallel.hpp"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "xraylift/core/error.hpp"

namespace xraylift::core {
namespace {
std::atomic<int> configured_threads{0};
}

void set_thread_count(int threads) {
  if (threads < 0) throw ConfigError(cat("threads = ", threads, ", expected >= 0 (0: all hardware threads)"));
  configured_threads = threads;
}

int thread_count(int requested) {
  if (requested > 0) return requested;
  if (configured_threads > 0) return configured_threads;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void parallel_for_chunks(std::int64_t begin, std::int64_t end, std::int64_t grain,
                         const std::function<void(std::int64_t, std::int64_t)>& body, int threads) {
  if (end <= begin) return;
  grain = std::max<std::int64_t>(1, grain);
  const std::int64_t chunks = (end - begin + grain - 1) / grain;
  const int workers = static_cast<int>(std::min<std::int64_t>(thread_count(threads), chunks));
  if (workers <= 1) {
    body(begin, end);
    return;
  }
  std::atomic<std::int64_t> next{begin};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    try {
      for (std::int64_t b = next.fetch_add(grain); b < end; b = next.fetch_add(grain))
        body(b, std::min(end, b + grain));
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next = end;
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (int t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace xraylift::core
