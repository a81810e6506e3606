#pragma once
// NRRD volumes (teem NRRD0004) that 3D Slicer opens: "space: left-posterior-superior", "space directions" from
// the volume's direction and spacing, "space origin" = world position of voxel (0,0,0)'s centre, x fastest.
// Reading accepts encodings raw and gzip, little or big endian, types int16/uint8 (and other integer types
// converted with a range check), 3 dimensions.
#include <cstdint>
#include <filesystem>

#include "xraylift/core/volume.hpp"

namespace xraylift::data {

// Declared sizes are checked before the volume is allocated: `sizes` has exactly `dimension` (3) positive
// entries, at most kMaxNrrdVoxels voxels, and the data that follows the header can hold them (raw: its byte
// count; gzip: its byte count times deflate's maximum ratio, kMaxDeflateRatio). InputError naming the file, the
// field, the value and the limit otherwise (docs/RELIABILITY.md).
constexpr std::int64_t kMaxNrrdVoxels = std::int64_t(1) << 31;  // 2 Gi voxels: 4 GiB of int16, ~8x a CT
constexpr std::int64_t kMaxDeflateRatio = 1032;                 // zlib's documented bound for deflate

core::VolumeI16 read_nrrd(const std::filesystem::path& file);
core::VolumeU8 read_nrrd_u8(const std::filesystem::path& file);  // label maps
core::VolumeF read_nrrd_f32(const std::filesystem::path& file);  // any type as float, values unscaled (evidence)
// Atomic (temp + rename). gzip uses a fast compression level (the cache is written once, read often).
void write_nrrd(const std::filesystem::path& file, const core::VolumeI16& v, bool gzip = true);
void write_nrrd(const std::filesystem::path& file, const core::VolumeU8& v, bool gzip = true);
void write_nrrd(const std::filesystem::path& file, const core::VolumeF& v, bool gzip = true);  // type float

// gzip helpers (zlib), exposed for tests and other writers.
std::string gzip_compress(const void* data, std::size_t bytes, int level = 1);
// Inflates a gzip or zlib stream; expected_bytes (0 = unknown) sizes the buffer. Throws InputError naming origin.
std::string gzip_decompress(const void* data, std::size_t bytes, std::size_t expected_bytes, const std::string& origin);

}  // namespace xraylift::data
