// NRRD reading and writing (teem NRRD0004 subset that 3D Slicer writes and reads).
#include "xraylift/data/nrrd.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <sstream>
#include <vector>

#include "large_volume.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"

namespace xraylift::data {
namespace fs = std::filesystem;

std::string gzip_compress(const void* data, std::size_t bytes, int level) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip header and trailer (what NRRD "encoding: gzip" means).
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw core::InputError("gzip: deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(bytes)) + 64);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<void*>(data));
  zs.avail_in = static_cast<uInt>(bytes);
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const std::size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw core::InputError(core::cat("gzip: deflate failed (code ", rc, ")"));
  out.resize(produced);
  return out;
}

std::string gzip_decompress(const void* data, std::size_t bytes, std::size_t expected_bytes,
                            const std::string& origin) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw core::InputError(core::cat(origin, ": inflateInit2 failed"));
  std::string out;
  out.resize(expected_bytes > 0 ? expected_bytes : bytes * 4 + 1024);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<void*>(data));
  zs.avail_in = static_cast<uInt>(bytes);
  int rc = Z_OK;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + zs.total_out);
    zs.avail_out = static_cast<uInt>(out.size() - zs.total_out);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) break;
    if (rc == Z_OK && zs.avail_out == 0) {
      if (expected_bytes > 0) break;  // got what was asked for
      out.resize(out.size() * 2);
      continue;
    }
    const std::string why = zs.msg ? zs.msg : "truncated or corrupt stream";
    inflateEnd(&zs);
    throw core::InputError(core::cat(origin, ": gzip data is corrupt or truncated (", why, ")"));
  }
  const std::size_t produced = zs.total_out;
  inflateEnd(&zs);
  out.resize(produced);
  return out;
}

namespace {

// Inflates a gzip/zlib stream into dst (capacity bytes); returns the bytes produced. Throws on corrupt data.
std::size_t inflate_into(const void* data, std::size_t bytes, void* dst, std::size_t capacity,
                         const std::string& origin) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw core::InputError(core::cat(origin, ": inflateInit2 failed"));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<void*>(data));
  std::size_t in_left = bytes, out_done = 0;
  int rc = Z_OK;
  // zlib counts in uInt: feed at most 1 GiB at a time.
  while (true) {
    const uInt in_chunk = static_cast<uInt>(std::min<std::size_t>(in_left, 1u << 30));
    zs.avail_in = in_chunk;
    const uInt out_chunk = static_cast<uInt>(std::min<std::size_t>(capacity - out_done, 1u << 30));
    zs.next_out = reinterpret_cast<Bytef*>(dst) + out_done;
    zs.avail_out = out_chunk;
    rc = inflate(&zs, Z_NO_FLUSH);
    in_left -= in_chunk - zs.avail_in;
    out_done += out_chunk - zs.avail_out;
    if (rc == Z_STREAM_END || out_done == capacity) break;
    if (rc != Z_OK || (zs.avail_in == 0 && in_left == 0)) {
      const std::string why = zs.msg ? zs.msg : "truncated or corrupt stream";
      inflateEnd(&zs);
      throw core::InputError(core::cat(origin, ": gzip data is corrupt or truncated (", why, ")"));
    }
  }
  inflateEnd(&zs);
  return out_done;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<double> parse_vector(const std::string& text, const std::string& where) {
  // "(a,b,c)"
  std::string t = trim(text);
  XL_CHECK(t.size() >= 2 && t.front() == '(' && t.back() == ')', where, ": expected a vector like (a,b,c), got '", text,
           "'");
  t = t.substr(1, t.size() - 2);
  std::replace(t.begin(), t.end(), ',', ' ');
  std::istringstream is(t);
  std::vector<double> v;
  double x;
  while (is >> x) v.push_back(x);
  XL_CHECK(is.eof(), where, ": malformed vector '", text, "'");
  return v;
}

template <typename T>
const char* nrrd_type_name();
template <>
const char* nrrd_type_name<std::int16_t>() {
  return "short";
}
template <>
const char* nrrd_type_name<std::uint8_t>() {
  return "uchar";
}
template <>
const char* nrrd_type_name<float>() {
  return "float";
}

struct NrrdType {
  int bytes;
  bool is_signed;
  bool is_float;
};

NrrdType nrrd_type(const std::string& name, const std::string& where) {
  static const std::map<std::string, NrrdType> types = {{"signed char", {1, true, false}},
                                                        {"int8", {1, true, false}},
                                                        {"int8_t", {1, true, false}},
                                                        {"uchar", {1, false, false}},
                                                        {"unsigned char", {1, false, false}},
                                                        {"uint8", {1, false, false}},
                                                        {"uint8_t", {1, false, false}},
                                                        {"short", {2, true, false}},
                                                        {"short int", {2, true, false}},
                                                        {"signed short", {2, true, false}},
                                                        {"signed short int", {2, true, false}},
                                                        {"int16", {2, true, false}},
                                                        {"int16_t", {2, true, false}},
                                                        {"ushort", {2, false, false}},
                                                        {"unsigned short", {2, false, false}},
                                                        {"unsigned short int", {2, false, false}},
                                                        {"uint16", {2, false, false}},
                                                        {"uint16_t", {2, false, false}},
                                                        {"int", {4, true, false}},
                                                        {"signed int", {4, true, false}},
                                                        {"int32", {4, true, false}},
                                                        {"int32_t", {4, true, false}},
                                                        {"uint", {4, false, false}},
                                                        {"unsigned int", {4, false, false}},
                                                        {"uint32", {4, false, false}},
                                                        {"uint32_t", {4, false, false}},
                                                        {"float", {4, true, true}},
                                                        {"double", {8, true, true}}};
  const auto it = types.find(name);
  XL_CHECK(it != types.end(), where, ": unsupported NRRD type '", name, "'");
  return it->second;
}

double read_scalar(const unsigned char* p, const NrrdType& t, bool swap) {
  unsigned char b[8];
  std::memcpy(b, p, t.bytes);
  if (swap) std::reverse(b, b + t.bytes);
  if (t.is_float) {
    if (t.bytes == 4) {
      float f;
      std::memcpy(&f, b, 4);
      return f;
    }
    double d;
    std::memcpy(&d, b, 8);
    return d;
  }
  switch (t.bytes) {
    case 1:
      return t.is_signed ? double(std::int8_t(b[0])) : double(b[0]);
    case 2: {
      std::uint16_t u;
      std::memcpy(&u, b, 2);
      return t.is_signed ? double(std::int16_t(u)) : double(u);
    }
    default: {
      std::uint32_t u;
      std::memcpy(&u, b, 4);
      return t.is_signed ? double(std::int32_t(u)) : double(u);
    }
  }
}

// One read of the whole file (core::read_file goes through a stringstream: two extra copies of ~70 MB).
std::string slurp(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  std::FILE* f = ec ? nullptr : std::fopen(file.c_str(), "rb");
  if (!f) return core::read_file(file);  // throws InputError naming the path
  std::string bytes(static_cast<std::size_t>(size), '\0');
  const std::size_t got = std::fread(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  bytes.resize(got);
  return bytes;
}

template <typename T>
core::Volume<T> read_nrrd_as(const fs::path& file) {
  const std::string where = file.string();
  const std::string bytes = slurp(file);
  std::size_t pos = 0;
  auto next_line = [&](std::string& line) {
    if (pos >= bytes.size()) return false;
    const auto e = bytes.find('\n', pos);
    const auto end = e == std::string::npos ? bytes.size() : e;
    line = bytes.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = end + 1;
    return true;
  };
  std::string line;
  XL_CHECK(next_line(line) && line.rfind("NRRD000", 0) == 0, where, ": not a NRRD file (first line '",
           line.substr(0, 40), "', expected NRRD000x)");
  std::map<std::string, std::string> fields;
  bool blank_seen = false;
  while (next_line(line)) {
    if (line.empty()) {
      blank_seen = true;
      break;
    }
    if (line[0] == '#') continue;
    const auto colon = line.find(": ");
    if (colon == std::string::npos) {
      XL_CHECK(line.find(":=") != std::string::npos, where, ": malformed header line '", line, "'");
      continue;  // key/value pair
    }
    fields[trim(line.substr(0, colon))] = trim(line.substr(colon + 2));
  }
  XL_CHECK(blank_seen, where, ": header has no end (blank line) - truncated file?");
  XL_CHECK(!fields.count("data file") && !fields.count("datafile"), where,
           ": detached NRRD data files are not supported");
  auto need = [&](const char* key) {
    const auto it = fields.find(key);
    XL_CHECK(it != fields.end(), where, ": header field '", key, "' is missing");
    return it->second;
  };
  XL_CHECK(need("dimension") == "3", where, ": dimension is ", need("dimension"), ", expected 3");
  const NrrdType type = nrrd_type(need("type"), where + ": field 'type'");
  // Every declared size, before anything is allocated: as many entries as `dimension`, each within int range,
  // the product within the limit (issue 23: 'sizes: 99999999 99999999 99999999' reached the allocator).
  const std::string sizes = need("sizes");
  std::istringstream sizes_stream(sizes);
  std::vector<long long> declared;
  for (std::string word; sizes_stream >> word;) {
    const bool digits = word.size() <= 12 && word.find_first_not_of("0123456789") == std::string::npos;
    XL_CHECK(digits, where, ": field 'sizes' = '", sizes, "', expected three positive integers");
    declared.push_back(std::stoll(word));
  }
  XL_CHECK(declared.size() == 3, where, ": field 'sizes' = '", sizes, "' has ", declared.size(),
           " entries, expected 3 (as many as 'dimension')");
  Eigen::Vector3i dims;
  long long voxels = 1;
  for (int a = 0; a < 3; ++a) {
    XL_CHECK(
        declared[a] >= 1 && declared[a] <= std::numeric_limits<int>::max() && voxels <= kMaxNrrdVoxels / declared[a],
        where, ": field 'sizes' = '", sizes, "', expected positive sizes of at most ", kMaxNrrdVoxels,
        " voxels in all (the reader's limit)");
    voxels *= declared[a];
    dims[a] = static_cast<int>(declared[a]);
  }
  core::VolumeGeometry g;
  g.dims = dims;
  if (fields.count("space directions")) {
    std::string sd = fields["space directions"];
    Eigen::Matrix3d m;
    std::size_t p = 0;
    for (int a = 0; a < 3; ++a) {
      const auto b = sd.find('(', p);
      const auto e = sd.find(')', b);
      XL_CHECK(b != std::string::npos && e != std::string::npos, where, ": field 'space directions' = '", sd,
               "' needs three vectors");
      const auto v = parse_vector(sd.substr(b, e - b + 1), where + ": field 'space directions'");
      XL_CHECK(v.size() == 3, where, ": field 'space directions' vectors need 3 components");
      m.col(a) = Eigen::Vector3d(v[0], v[1], v[2]);
      p = e + 1;
    }
    for (int a = 0; a < 3; ++a) {
      g.spacing[a] = m.col(a).norm();
      XL_CHECK(g.spacing[a] > 0, where, ": space direction ", a, " has zero length");
      g.direction.col(a) = m.col(a) / g.spacing[a];
    }
  } else if (fields.count("spacings")) {
    std::istringstream is(fields["spacings"]);
    for (int a = 0; a < 3; ++a) XL_CHECK(static_cast<bool>(is >> g.spacing[a]), where, ": field 'spacings' malformed");
  }
  if (fields.count("space")) {
    const std::string space = fields["space"];
    if (space == "right-anterior-superior" || space == "RAS") {
      // Slicer's other common space: flip x and y into LPS.
      g.direction.row(0) *= -1;
      g.direction.row(1) *= -1;
    } else {
      XL_CHECK(space == "left-posterior-superior" || space == "LPS", where, ": field 'space' = '", space,
               "', expected left-posterior-superior (or right-anterior-superior)");
    }
  }
  if (fields.count("space origin")) {
    const auto v = parse_vector(fields["space origin"], where + ": field 'space origin'");
    XL_CHECK(v.size() == 3, where, ": field 'space origin' needs 3 components");
    g.origin = Eigen::Vector3d(v[0], v[1], v[2]);
    if (fields.count("space") && (fields["space"] == "right-anterior-superior" || fields["space"] == "RAS")) {
      g.origin.x() *= -1;
      g.origin.y() *= -1;
    }
  }
  g.validate(where);
  const std::string encoding = fields.count("encoding") ? fields["encoding"] : "raw";
  XL_CHECK(encoding == "raw" || encoding == "gzip" || encoding == "gz", where, ": encoding '", encoding,
           "' is not supported (raw or gzip)");
  const bool gz = encoding != "raw";
  const std::size_t count = static_cast<std::size_t>(g.voxel_count());
  const std::size_t expected = count * type.bytes;
  const char* payload = bytes.data() + std::min(pos, bytes.size());
  const std::size_t payload_size = bytes.size() - std::min(pos, bytes.size());
  const std::string endian = fields.count("endian") ? fields["endian"] : "little";
  const bool swap = type.bytes > 1 && endian == "big";
  // The payload must be able to hold the declared voxels before they are allocated.
  if (gz)
    XL_CHECK(expected / kMaxDeflateRatio <= payload_size, where, ": field 'sizes' = '", sizes, "' needs ", expected,
             " bytes, more than ", payload_size, " gzip bytes can hold (at most ", kMaxDeflateRatio, "x)");
  else
    XL_CHECK(payload_size >= expected, where, ": truncated: ", payload_size, " data bytes, expected ", expected,
             " (field 'sizes' = '", sizes, "', type ", need("type"), ")");
  core::Volume<T> v = detail::allocate_volume<T>(g);
  const bool direct =
      !swap && !type.is_float && type.bytes == int(sizeof(T)) && type.is_signed == std::numeric_limits<T>::is_signed;
  if (direct) {
    // The common case: decode straight into the volume, no intermediate buffer.
    if (gz) {
      const std::size_t got = inflate_into(payload, payload_size, v.data(), expected, where);
      XL_CHECK(got == expected, where, ": truncated: ", got, " data bytes after decoding, expected ", expected);
    } else {
      XL_CHECK(payload_size >= expected, where, ": truncated: ", payload_size, " data bytes, expected ", expected);
      std::memcpy(v.data(), payload + (payload_size - expected), expected);  // raw data is at the end of the file
    }
    return v;
  }
  std::string raw;
  if (gz) {
    raw = gzip_decompress(payload, payload_size, expected, where);
  } else {
    XL_CHECK(payload_size >= expected, where, ": truncated: ", payload_size, " data bytes, expected ", expected);
    raw.assign(payload + (payload_size - expected), expected);
  }
  XL_CHECK(raw.size() == expected, where, ": truncated: ", raw.size(), " data bytes after decoding, expected ",
           expected);
  const auto* src = reinterpret_cast<const unsigned char*>(raw.data());
  const double lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
  for (std::size_t n = 0; n < count; ++n) {
    const double x = read_scalar(src + n * type.bytes, type, swap);
    XL_CHECK(x >= lo && x <= hi, where, ": voxel ", n, " value ", x, " does not fit the expected ", nrrd_type_name<T>(),
             " type");
    v.values()[n] = static_cast<T>(x);
  }
  return v;
}

template <typename T>
void write_nrrd_as(const fs::path& file, const core::Volume<T>& v, bool gzip) {
  v.geometry().validate(file.string());
  const auto& g = v.geometry();
  std::ostringstream h;
  h.precision(17);
  h << "NRRD0004\n# Complete NRRD file format specification at:\n# http://teem.sourceforge.net/nrrd/format.html\n"
    << "# written by xraylift (world frame: LPS mm, origin at the volume centre)\n"
    << "type: " << nrrd_type_name<T>() << "\ndimension: 3\nspace: left-posterior-superior\n"
    << "sizes: " << g.dims.x() << " " << g.dims.y() << " " << g.dims.z() << "\nspace directions:";
  for (int a = 0; a < 3; ++a) {
    const Eigen::Vector3d d = g.direction.col(a) * g.spacing[a];
    h << " (" << d.x() << "," << d.y() << "," << d.z() << ")";
  }
  h << "\nkinds: domain domain domain\nendian: little\nencoding: " << (gzip ? "gzip" : "raw") << "\n"
    << "space origin: (" << g.origin.x() << "," << g.origin.y() << "," << g.origin.z() << ")\n\n";
  const std::size_t bytes = v.values().size() * sizeof(T);
  core::AtomicFile out(file);
  out.stream() << h.str();
  if (gzip) {
    const std::string z = gzip_compress(v.data(), bytes, 1);
    out.stream().write(z.data(), static_cast<std::streamsize>(z.size()));
  } else {
    out.stream().write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(bytes));
  }
  out.commit();
}

}  // namespace

core::VolumeI16 read_nrrd(const fs::path& file) { return read_nrrd_as<std::int16_t>(file); }
core::VolumeU8 read_nrrd_u8(const fs::path& file) { return read_nrrd_as<std::uint8_t>(file); }
core::VolumeF read_nrrd_f32(const fs::path& file) { return read_nrrd_as<float>(file); }
void write_nrrd(const fs::path& file, const core::VolumeI16& v, bool gzip) { write_nrrd_as(file, v, gzip); }
void write_nrrd(const fs::path& file, const core::VolumeU8& v, bool gzip) { write_nrrd_as(file, v, gzip); }

}  // namespace xraylift::data
