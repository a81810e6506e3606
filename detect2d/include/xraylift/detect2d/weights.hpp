#pragma once
// Loading converted weights by parameter name, from
//   - safetensors files (.safetensors: 8-byte header length, JSON header, raw little-endian tensors), or
//   - Python's torch.save of a state_dict (a zip of pickles and raw storages, torchvision-style .pth files).
// TorchScript / libtorch archives (torch.jit.save, C++ torch::save of a module: they carry code that libtorch
// compiles when it loads them) are refused naming the file and scripts/convert_weights.py, which converts them.
// Keys are matched against module->named_parameters() and named_buffers(); a report lists what was missing,
// unexpected, or of the wrong shape (those are skipped, never silently reshaped).
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace xraylift::detect2d {

struct WeightLoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;     // in the model, not in the file
  std::vector<std::string> unexpected;  // in the file, not in the model
  std::vector<std::string> mismatched;  // same name, other shape ("name: file [..] vs model [..]")
  std::string summary() const;
};

// Reads every tensor of a file (format by content: safetensors header, else a torch.save zip); core::InputError
// naming the file for anything else.
std::map<std::string, torch::Tensor> read_state_dict(const std::filesystem::path& path);
// Writes a safetensors file atomically (train::write_safetensors); `metadata` goes to the header's "__metadata__"
// map of strings (the format's place for who wrote the file and what it holds).
void write_safetensors(const std::filesystem::path& path, const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
// The "__metadata__" strings of a safetensors file (empty for files without them and for torch archives).
std::map<std::string, std::string> read_weights_metadata(const std::filesystem::path& path);

// Copies matching tensors into the module. `strip_prefix` is removed from file keys first (e.g. "module.").
WeightLoadReport load_weights(torch::nn::Module& module, const std::filesystem::path& path,
                              const std::string& strip_prefix = "");
WeightLoadReport load_state_dict(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& state);

}  // namespace xraylift::detect2d
