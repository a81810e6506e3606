#pragma once
// A minimal parallel loop over [0, n) with dynamic scheduling on std::threads (2-core CI machines: no OpenMP).
#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace xraylift::data::detail {

template <typename F>
void parallel_for(int n, F&& f, int threads = 0) {
  int t = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  t = std::max(1, std::min(t, n));
  std::atomic<int> next{0};
  std::exception_ptr error;
  std::mutex m;
  auto work = [&] {
    try {
      for (int i = next++; i < n; i = next++) f(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(m);
      if (!error) error = std::current_exception();
      next = n;
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < t; ++i) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace xraylift::data::detail
