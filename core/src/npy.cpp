#include "xraylift/core/npy.hpp"

#include <cmath>
#include <cstring>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"

namespace xraylift::core {

void write_npy(const std::filesystem::path& path, const float* data, const std::vector<std::int64_t>& shape) {
  XL_CHECK(!shape.empty(), "write_npy '", path.string(), "': empty shape");
  std::int64_t count = 1;
  std::string dims;
  for (auto d : shape) {
    XL_CHECK(d >= 0, "write_npy '", path.string(), "': negative dimension ", d);
    count *= d;
    dims += std::to_string(d) + ", ";
  }
  if (shape.size() > 1) dims.resize(dims.size() - 1);  // "(3,)" for 1-D, "(3, 4)" otherwise
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic (6) + version (2) + header length (2) + header + '\n', padded to a multiple of 64 bytes.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string bytes("\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<std::uint16_t>(header.size());
  bytes.push_back(static_cast<char>(len & 0xff));
  bytes.push_back(static_cast<char>(len >> 8));
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(count) * sizeof(float));
  write_file_atomic(path, bytes);
}

NpyArray read_npy(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  const std::string where = cat("'", path.string(), "'");
  XL_CHECK(bytes.size() >= 10 && bytes.compare(0, 6, "\x93NUMPY") == 0, where, ": not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else {
    XL_CHECK(bytes.size() >= 12, where, ": truncated header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= std::size_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    offset = 12;
  }
  XL_CHECK(bytes.size() >= offset + header_len, where, ": truncated header");
  const std::string header = bytes.substr(offset, header_len);
  XL_CHECK(header.find("'descr': '<f4'") != std::string::npos, where,
           ": dtype is not little-endian float32 ('<f4'): ", header);
  XL_CHECK(header.find("'fortran_order': False") != std::string::npos, where,
           ": Fortran-ordered arrays are not supported");
  // The first "'shape': (" followed by digits, commas and spaces up to ")", scanned by hand: libstdc++'s
  // std::regex matcher recurses once per character (GCC bug 86164), and a shape of 30,000 characters overflowed
  // the 8 MB stack (SIGSEGV; tests/fuzz/corpus/npy/crash-long-shape-regex-recursion).
  std::string dims;
  bool shape_found = false;
  const std::string shape_key = "'shape': (";
  for (auto at = header.find(shape_key); at != std::string::npos && !shape_found; at = header.find(shape_key, at + 1)) {
    const std::size_t begin = at + shape_key.size();
    const std::size_t end = header.find_first_not_of("0123456789, ", begin);
    if (end != std::string::npos && header[end] == ')') {
      dims = header.substr(begin, end - begin);
      shape_found = true;
    }
  }
  XL_CHECK(shape_found, where, ": no shape in header");
  NpyArray a;
  // Declared sizes are checked before anything is allocated: each dimension is decimal digits within the
  // limit, and the product must fit the bytes that follow the header (issue 23: a shape beyond int64 ended
  // in std::stoll's "stoll", exit 1).
  std::int64_t count = 1;
  std::size_t pos = 0;
  while (pos < dims.size()) {
    const auto next = dims.find(',', pos);
    std::string part = dims.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    if (!part.empty()) {
      XL_CHECK(part.size() <= 12 && part.find(' ') == std::string::npos, where, ": shape entry '", part,
               "' is not a dimension <= ", kMaxNpyValues);
      const std::int64_t d = std::stoll(part);  // at most 12 digits: cannot overflow
      XL_CHECK(d <= kMaxNpyValues && (d == 0 || count <= kMaxNpyValues / d), where, ": shape (", dims,
               ") holds more than ", kMaxNpyValues, " values (the reader's limit)");
      a.shape.push_back(d);
      count *= d;
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  const std::size_t data_bytes = static_cast<std::size_t>(count) * sizeof(float);
  XL_CHECK(bytes.size() - offset - header_len >= data_bytes, where, ": shape (", dims, ") needs ", data_bytes,
           " data bytes, the file holds ", bytes.size() - offset - header_len);
  a.data.resize(static_cast<std::size_t>(count));
  // An empty array (a 0 in the shape) has no buffer: memcpy to its null data() is undefined even for 0 bytes
  // (found by fuzz_npy, docs/RELIABILITY.md).
  if (data_bytes > 0) std::memcpy(a.data.data(), bytes.data() + offset + header_len, data_bytes);
  return a;
}

NpyArray read_line_integrals(const std::filesystem::path& path, std::int64_t height, std::int64_t width) {
  NpyArray a = read_npy(path);
  const std::string where = path.string();
  XL_CHECK(a.shape.size() == 2, where, ": expected an H x W array, got ", a.shape.size(), " dims");
  XL_CHECK(a.shape[0] == height && a.shape[1] == width, where, ": array ", a.shape[0], " x ", a.shape[1],
           " does not match camera ", height, " x ", width);
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    const float x = a.data[i];
    XL_CHECK(std::isfinite(x) && x >= 0, where, ": line integral at row ", std::int64_t(i) / width, ", column ",
             std::int64_t(i) % width, " = ", x, ", expected a finite value >= 0");
  }
  return a;
}

}  // namespace xraylift::core
