#pragma once
// torch tensors in safetensors files (8-byte header length, a JSON header, raw little-endian tensors): the format of
// every weight file xraylift writes (detect2d's and detect3d's model.safetensors) and of the trainer's
// checkpoint.safetensors. The header is parsed by core::parse_safetensors_header (fuzzed without torch,
// tests/fuzz/fuzz_safetensors.cpp), which checks every size against the file before a tensor is allocated. The
// format holds data only: nothing in it is executed or compiled (unlike a TorchScript archive).
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <string>

namespace xraylift::train {

// Every tensor of the safetensors file `bytes` (F32, F64, F16, BF16, I64, I32, U8, I8, BOOL), on the CPU, by name.
// core::InputError naming `where`, the tensor and the field for a malformed header or an unsupported dtype.
std::map<std::string, at::Tensor> parse_safetensors(const std::string& bytes, const std::string& where);
// Writes the tensors (copied to the CPU, contiguous) atomically; `metadata` goes to the header's "__metadata__" map
// of strings (the format's place for who wrote the file and what it holds).
void write_safetensors(const std::filesystem::path& path, const std::map<std::string, at::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
// A shape as torch prints it ("[2, 3]"), for the messages of readers that compare a file's tensors with a model's.
std::string shape_text(at::IntArrayRef shape);
// The safetensors name of a torch dtype ("F32", ...); empty for one the format does not hold here.
std::string safetensors_dtype_name(at::ScalarType type);

}  // namespace xraylift::train
