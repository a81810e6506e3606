#pragma once
// NumPy .npy arrays (format 1.0, little-endian, C order): the float line-integral images of the DRR stage,
// readable with numpy.load. Only the dtypes the project writes are supported.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace xraylift::core {

struct NpyArray {
  std::vector<std::int64_t> shape;
  std::vector<float> data;  // row-major
};

void write_npy(const std::filesystem::path& path, const float* data, const std::vector<std::int64_t>& shape);  // atomic
// Reads '<f4' arrays; throws InputError naming the file for any other dtype, Fortran order or a short file.
NpyArray read_npy(const std::filesystem::path& path);

}  // namespace xraylift::core
