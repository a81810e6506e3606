#pragma once
// The one parallel loop of xraylift (docs/ARCHITECTURE.md, "Threads"): every module runs its CPU loops through
// core::parallel_for, and the number of workers comes from one place, core::thread_count(), which the CLI sets from
// the top-level config key `threads` (or `--threads`). Like Open3D's core::ParallelFor, the first exception thrown
// by any worker stops the loop (no new chunk starts) and is rethrown on the calling thread.
#include <algorithm>
#include <cstdint>
#include <functional>

namespace xraylift::core {

// Workers used when a call does not ask for a count: 0 (the default) means all hardware threads.
void set_thread_count(int threads);
// `requested` > 0 is used as is; 0 resolves to set_thread_count's value, or all hardware threads.
int thread_count(int requested = 0);

// Calls body(chunk_begin, chunk_end) over [begin, end) in chunks of `grain` indices handed out dynamically.
// Runs inline (no thread started) when one worker or one chunk suffices.
void parallel_for_chunks(std::int64_t begin, std::int64_t end, std::int64_t grain,
                         const std::function<void(std::int64_t, std::int64_t)>& body, int threads = 0);

// Calls f(i) for every i in [0, n).
template <typename F>
void parallel_for(std::int64_t n, F&& f, int threads = 0, std::int64_t grain = 1) {
  parallel_for_chunks(
      0, n, std::max<std::int64_t>(1, grain),
      [&f](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) f(i);
      },
      threads);
}

}  // namespace xraylift::core
