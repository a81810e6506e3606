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

// The reader's limit on an array's values (4 GiB of float32); a shape beyond it, or beyond the file's bytes,
// is refused before allocating.
constexpr std::int64_t kMaxNpyValues = std::int64_t(1) << 30;

void write_npy(const std::filesystem::path& path, const float* data, const std::vector<std::int64_t>& shape);  // atomic
// Reads '<f4' arrays; throws InputError naming the file for any other dtype, Fortran order or a short file.
NpyArray read_npy(const std::filesystem::path& path);
// A view's line-integral image (the DRR stage's viewNN.npy): an H x W '<f4' array of the camera's size whose
// values are finite and >= 0 (a NaN/Inf view once gave 50 predicted boxes); InputError naming the file, the
// first bad pixel and its value otherwise.
NpyArray read_line_integrals(const std::filesystem::path& path, std::int64_t height, std::int64_t width);

}  // namespace xraylift::core
