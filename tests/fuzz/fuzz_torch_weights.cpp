// The torch weight reader (detect2d::read_state_dict on a weight file: safetensors through core's header parser,
// Python torch.save zips through train::check_torch_archive and train::load_torch_pickle; TorchScript / libtorch
// archives are refused by their records before any pickle of theirs is read, so no code is compiled here):
// tensors or core::InputError, whatever the bytes. Every returned tensor is checked the way load_state_dict uses
// it: dense, its elements inside its storage, and read in full (sum) when small. An allocation of gigabytes is
// caught by libFuzzer's -malloc_limit_mb, and in the mutation loop by its address-space limit and new handler
// (not by the error text: a record named "bad_alloc.pkl" made an earlier text check trap).
// xraylift's code is built with ASan/UBSan and coverage; libtorch is the prebuilt library, neither instrumented
// nor coverage-guided (docs/RELIABILITY.md "Fuzzing the file readers").
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fuzz_scratch.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/detect2d/weights.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto path = xraylift::fuzz::scratch_folder("torch_weights") / "weights.pt";
  // A new file (inode) per input: libtorch keeps readers of earlier TorchScript loads (their sources' debug info is
  // unpickled lazily, from the file it was opened from); rewriting the same file in place made such a reader read
  // a later input at the earlier offsets (a memo table of gigabytes, an artifact of the loop, not of a real run).
  std::remove(path.c_str());
  xraylift::fuzz::write_input(path, data, size);
  try {
    const auto state = xraylift::detect2d::read_state_dict(path);
    if (state.empty()) __builtin_trap();  // the reader promises tensors or an error
    for (const auto& [name, t] : state) {
      if (!t.defined() || t.layout() != torch::kStrided || t.is_quantized()) __builtin_trap();
      std::int64_t last = t.storage_offset();  // the furthest element, in elements
      for (std::int64_t d = 0; d < t.dim(); ++d) {
        if (t.size(d) < 0 || t.stride(d) < 0) __builtin_trap();
        if (t.size(d) == 0) last = -1;
        if (last >= 0) last += (t.size(d) - 1) * t.stride(d);
      }
      if (last >= 0 &&
          (last + 1) * static_cast<std::int64_t>(t.element_size()) > static_cast<std::int64_t>(t.storage().nbytes()))
        __builtin_trap();  // a tensor that reads past its storage
      if (t.numel() <= (1 << 16)) (void)t.to(torch::kFloat).sum().item<float>();
    }
  } catch (const xraylift::core::InputError& e) {
    if (std::getenv("FUZZ_VERBOSE")) std::fprintf(stderr, "InputError: %s\n", e.what());  // replaying a reproducer
  }
  return 0;
}
