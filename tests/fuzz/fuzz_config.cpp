// The YAML config loader (Config::load: a file with `base:` includes relative to it), typed reads of every kind
// the project uses, --set overrides, unknown-key reports and dump(): each works or raises core::ConfigError /
// core::InputError, never anything else.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_scratch.hpp"
#include "xraylift/core/config.hpp"

using xraylift::core::Config;
namespace fs = std::filesystem;

namespace {
fs::path folder;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  folder = xraylift::fuzz::scratch_folder("config");
  // A base file the fuzzed configs may include ("base: base.yaml"), and one that includes itself.
  std::ofstream(folder / "base.yaml")
      << "model:\n  depth: 18\n  fpn: {stages: [2, 3], channels: 32}\ntrain: {lr: 0.1}\n";
  std::ofstream(folder / "loop.yaml") << "base: loop.yaml\na: 1\n";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Includes may name any file; keep the fuzzer away from devices that never end.
  if (text.find("/dev") != std::string::npos || text.find("/proc") != std::string::npos) return 0;
  {
    std::ofstream out(folder / "fuzz.yaml", std::ios::binary | std::ios::trunc);
    out << text;
  }
  // The last line doubles as a --set assignment, so overrides are fuzzed too.
  const auto nl = text.rfind('\n');
  const std::string assignment = nl == std::string::npos ? text : text.substr(nl + 1);
  try {
    Config c = size % 2 ? Config::load(folder / "fuzz.yaml") : Config::from_yaml(text, "fuzz.yaml");
    try {
      c.set(assignment);
    } catch (const xraylift::core::ConfigError&) {}
    // Typed reads of the keys the file has (a type chosen per key, so every conversion gets exercised) and of
    // keys it may not have, then the unknown-key report and the dump.
    std::vector<std::string> keys = c.unknown_keys();
    keys.resize(std::min<std::size_t>(keys.size(), 6));
    keys.push_back("model.depth");
    for (std::size_t i = 0; i < keys.size(); ++i) {
      try {
        switch ((keys[i].size() + i) % 6) {
          case 0:
            (void)c.get<int>(keys[i], 0);
            break;
          case 1:
            (void)c.get<double>(keys[i], 0.0);
            break;
          case 2:
            (void)c.get<std::string>(keys[i], "");
            break;
          case 3:
            (void)c.get<std::vector<double>>(keys[i], {});
            break;
          case 4:
            (void)c.get<bool>(keys[i], false);
            break;
          default:
            (void)c.node(keys[i]);
            (void)c.origin(keys[i]);
            break;
        }
      } catch (const xraylift::core::ConfigError&) {}
    }
    (void)c.dump();
    try {
      c.check_no_unknown_keys();
    } catch (const xraylift::core::ConfigError&) {}
  } catch (const xraylift::core::ConfigError&) {
  } catch (const xraylift::core::InputError&) {}
  return 0;
}
