// A plain mutation loop for harnesses whose library cannot be built with the sanitizers or run fast enough under
// them (the torch weight reader: libtorch is prebuilt): N executions of LLVMFuzzerTestOneInput on random mutations
// of the seed files, without coverage feedback, in an ordinary (gcc, optimised) build.
//   mutate_<harness> RUNS SEED_FOLDER CRASH_FOLDER [RNG_SEED]
// Mutations (1 to 8 per input, like libFuzzer's): flip a bit, set a byte to a random or an "interesting" value
// (0, 0xff, 0x7f, 0x80), write a 2/4/8-byte interesting integer (0, -1, INT_MAX, 2^31, 2^32 - 1, a huge size),
// insert or erase a run of bytes, copy a run within the input, truncate. A crash (a signal, an uncaught
// exception, an abort) writes the input to CRASH_FOLDER/crash-<execution> first, so it can be replayed; the loop
// stops at the first one. The address space is limited to 8 GB (MUTATE_MAX_GB), so that an input that makes the
// reader allocate without bound fails its allocation (the harness reports that as a crash) instead of bringing
// the shared machine's OOM killer. The last line says executions, seconds and executions per second.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <new>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::string current;  // the input being executed (written out by the crash handlers)
char crash_path[4096];

void write_crash() {
  const int fd = ::open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  [[maybe_unused]] const auto n = ::write(fd, current.data(), current.size());
  ::close(fd);
  static const char message[] = "\nmutate: CRASH, input written to the crash folder\n";
  [[maybe_unused]] const auto m = ::write(STDERR_FILENO, message, sizeof(message) - 1);
}

extern "C" void on_crash(int sig) {
  write_crash();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void mutate(std::string& s, std::mt19937_64& rng, const std::vector<std::string>& seeds) {
  static const std::uint64_t kInteresting[] = {0,          1,          0x7f,       0x80,       0xff,
                                               0x7fff,     0xffff,     0x7fffffff, 0x80000000, 0xffffffff,
                                               1ull << 32, 1ull << 40, ~0ull,      ~0ull >> 1};
  auto pick = [&](std::size_t n) { return n ? static_cast<std::size_t>(rng() % n) : 0; };
  const int count = 1 + static_cast<int>(rng() % 8);
  for (int m = 0; m < count; ++m) {
    switch (rng() % 9) {
      case 0:
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(rng());
        break;
      case 2:
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(kInteresting[pick(5)]);
        break;
      case 3: {  // a little-endian integer of 2, 4 or 8 bytes
        const std::size_t width = std::size_t{2} << (rng() % 3);
        if (s.size() < width) break;
        const std::uint64_t v = kInteresting[pick(std::size(kInteresting))];
        std::memcpy(&s[pick(s.size() - width + 1)], &v, width);
        break;
      }
      case 4: {
        const std::size_t n = 1 + pick(16);
        s.insert(pick(s.size() + 1), std::string(n, static_cast<char>(rng())));
        break;
      }
      case 5:
        if (!s.empty()) {
          const std::size_t at = pick(s.size());
          s.erase(at, 1 + pick(std::min<std::size_t>(64, s.size() - at)));
        }
        break;
      case 6:
        if (s.size() > 2) {
          const std::size_t from = pick(s.size()), to = pick(s.size());
          const std::size_t n = 1 + pick(std::min<std::size_t>(64, s.size() - std::max(from, to)));
          std::memmove(&s[to], &s[from], n);
        }
        break;
      case 7:
        if (!s.empty()) s.resize(pick(s.size()));
        break;
      case 8: {  // splice a run of another seed in
        const std::string& other = seeds[pick(seeds.size())];
        if (other.empty() || s.empty()) break;
        const std::size_t from = pick(other.size()), n = 1 + pick(std::min<std::size_t>(64, other.size() - from));
        const std::size_t to = pick(s.size());
        s.replace(to, std::min(n, s.size() - to), other, from, n);
        break;
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s RUNS SEED_FOLDER CRASH_FOLDER [RNG_SEED]\n", argv[0]);
    return 2;
  }
  const long long runs = std::atoll(argv[1]);
  std::vector<std::string> seeds;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(argv[2]))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    seeds.emplace_back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  if (seeds.empty() || runs <= 0) {
    std::fprintf(stderr, "mutate: need RUNS > 0 and seed files in '%s'\n", argv[2]);
    return 2;
  }
  std::filesystem::create_directories(argv[3]);
  const char* max_gb = std::getenv("MUTATE_MAX_GB");
  const rlim_t limit = static_cast<rlim_t>(max_gb ? std::atof(max_gb) : 8.0) << 30;
  const struct rlimit address_space { limit, limit };
  setrlimit(RLIMIT_AS, &address_space);
  std::set_new_handler([] {  // operator new out of memory: an unbounded allocation
    write_crash();
    std::abort();
  });
  std::mt19937_64 rng(argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 1);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, on_crash);
  std::set_terminate([] {  // an exception the harness does not expect (e.g. not core::InputError)
    write_crash();
    std::abort();
  });
  const auto t0 = std::chrono::steady_clock::now();
  for (long long i = 0; i < runs; ++i) {
    current = seeds[static_cast<std::size_t>(rng() % seeds.size())];
    mutate(current, rng, seeds);
    std::snprintf(crash_path, sizeof crash_path, "%s/crash-%lld", argv[3], i);
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(current.data()), current.size());
    if ((i + 1) % 100000 == 0) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("mutate: %lld executions, %.0f s\n", i + 1, s);
      std::fflush(stdout);
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("mutate: %lld executions in %.0f s (%.0f exec/s), 0 crashes\n", runs, s, runs / std::max(s, 1e-9));
  return 0;
}
