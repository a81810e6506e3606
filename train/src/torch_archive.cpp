#include "xraylift/train/torch_archive.hpp"

#include <c10/util/Exception.h>
#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/csrc/jit/serialization/import_read.h>
#include <torch/csrc/jit/serialization/storage_context.h>

#include <algorithm>
#include <cctype>

#include <cstdint>
#include <cstring>
#include <memory>

#include "xraylift/core/error.hpp"

namespace xraylift::train {

namespace {

// The file's bytes for libtorch's zip reader. Not caffe2's MemoryReadAdapter: it copies whatever range it is asked
// for, and a zip whose central directory offset points past the end made miniz read beyond the buffer (SEGV, the
// fuzz loop's tests/fuzz/corpus/torch_weights/crash-central-directory-past-end). A short read is miniz's error.
class BytesReader final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit BytesReader(const std::string& bytes) : bytes_(bytes) {}
  std::size_t size() const override { return bytes_.size(); }
  std::size_t read(std::uint64_t pos, void* buf, std::size_t n, const char* /*what*/) const override {
    if (pos >= bytes_.size()) return 0;
    n = std::min<std::size_t>(n, bytes_.size() - static_cast<std::size_t>(pos));
    std::memcpy(buf, bytes_.data() + pos, n);
    return n;
  }

 private:
  const std::string& bytes_;
};

}  // namespace

bool looks_like_zip(std::string_view bytes) { return bytes.size() >= 4 && bytes.substr(0, 4) == "PK\x03\x04"; }

void check_pickle(std::string_view p, const std::string& where) {
  std::size_t at = 0;
  std::uint64_t memo = 0;  // the next free memo slot: the picklers fill them in order
  auto need = [&](std::size_t n) {
    if (p.size() - at < n)
      throw core::InputError(core::cat(where, ": pickle ends inside an opcode's argument at byte ", at));
  };
  auto uint = [&](std::size_t n) {  // little-endian, n <= 8
    need(n);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[at + i])) << (8 * i);
    at += n;
    return v;
  };
  auto skip = [&](std::uint64_t n) {
    if (n > p.size() - at)
      throw core::InputError(core::cat(where, ": pickle argument of ", n, " bytes at byte ", at, " runs past its end (",
                                       p.size(), " bytes)"));
    at += static_cast<std::size_t>(n);
  };
  auto line = [&] {  // text opcodes: an argument ended by '\n'
    const auto end = p.find('\n', at);
    if (end == std::string_view::npos)
      throw core::InputError(core::cat(where, ": pickle line at byte ", at, " has no end"));
    const std::string_view text = p.substr(at, end - at);
    at = end + 1;
    return text;
  };
  auto put = [&](std::uint64_t index, std::size_t op_at) {
    if (index > memo)
      throw core::InputError(core::cat(where, ": pickle memo index ", index, " at byte ", op_at,
                                       " skips slots (the next free one is ", memo, ")"));
    if (index == memo) ++memo;
  };
  auto get = [&](std::uint64_t index, std::size_t op_at) {
    if (index >= memo)
      throw core::InputError(
          core::cat(where, ": pickle reads memo slot ", index, " at byte ", op_at, " before it was set"));
  };
  while (at < p.size()) {
    const std::size_t op_at = at;
    const auto op = static_cast<unsigned char>(p[at++]);
    switch (op) {
      case '.':  // STOP
        return;
      case '(':
      case '0':
      case '1':
      case '2':
      case 'N':
      case 'R':
      case 'a':
      case 'b':
      case 'd':
      case '}':
      case 'e':
      case 'l':
      case ']':
      case 's':
      case 't':
      case ')':
      case 'u':
      case 'Q':
      case 'o':
      case 0x81:
      case 0x85:
      case 0x86:
      case 0x87:
      case 0x88:
      case 0x89:
      case 0x8f:
      case 0x90:
      case 0x91:
      case 0x92:
      case 0x93:
        break;    // no argument
      case 0x94:  // MEMOIZE
        ++memo;
        break;
      case 'K':
      case 0x80:
        uint(1);
        break;  // BININT1, PROTO
      case 'M':
        uint(2);
        break;  // BININT2
      case 'J':
        uint(4);
        break;  // BININT
      case 'G':
      case 0x95:
        uint(8);
        break;  // BINFLOAT, FRAME
      case 'h':
        get(uint(1), op_at);
        break;  // BINGET
      case 'j':
        get(uint(4), op_at);
        break;  // LONG_BINGET
      case 'q':
        put(uint(1), op_at);
        break;  // BINPUT
      case 'r':
        put(uint(4), op_at);
        break;  // LONG_BINPUT
      case 0x8a:
      case 'U':
      case 0x8c:
      case 'C':  // LONG1, SHORT_BINSTRING, SHORT_BINUNICODE, SHORT_BINBYTES
        skip(uint(1));
        break;
      case 0x8b:
      case 'T':
      case 'X':
      case 'B':  // LONG4, BINSTRING, BINUNICODE, BINBYTES
        skip(uint(4));
        break;
      case 0x8d:
      case 0x8e:
        skip(uint(8));
        break;  // BINUNICODE8, BINBYTES8
      case 'c':
      case 'i':
        line(), line();
        break;  // GLOBAL, INST: module and name lines
      case 'I':
      case 'L':
      case 'S':
      case 'V':
      case 'F':
      case 'P':
        line();
        break;
      case 'p':
      case 'g': {  // PUT, GET: a decimal index
        const std::string text(line());
        char* end = nullptr;
        const unsigned long long index = std::strtoull(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0')
          throw core::InputError(
              core::cat(where, ": pickle memo index '", text, "' at byte ", op_at, " is not a number"));
        op == 'p' ? put(index, op_at) : get(index, op_at);
        break;
      }
      default:
        throw core::InputError(core::cat(where, ": pickle opcode 0x", std::hex, static_cast<int>(op), std::dec,
                                         " at byte ", op_at, " is not one a torch pickler writes"));
    }
  }
  throw core::InputError(core::cat(where, ": pickle has no STOP opcode"));
}

std::vector<std::string> torch_archive_records(const std::string& bytes, const std::string& where) {
  try {
    caffe2::serialize::PyTorchStreamReader reader(std::make_shared<BytesReader>(bytes));
    return reader.getAllRecords();
  } catch (const c10::Error& e) {
    throw core::InputError(core::cat(where, ": not a readable torch archive (",
                                     std::string(e.what_without_backtrace()).substr(0, 200), ")"));
  }
}

std::string torchscript_record(const std::vector<std::string>& records) {
  for (const auto& name : records) {
    // Compared without case: miniz finds records without case too (crash-pickle-name-in-other-case).
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower.rfind("code/", 0) == 0 || lower == "constants.pkl" || lower.find(".debug_pkl") != std::string::npos)
      return name;
  }
  return {};
}

void check_torch_archive(const std::string& bytes, const std::string& where) {
  try {
    caffe2::serialize::PyTorchStreamReader reader(std::make_shared<BytesReader>(bytes));
    for (const auto& name : reader.getAllRecords()) {
      // torch's writers store records uncompressed: a record larger than the file is a corrupted size, which
      // libtorch would allocate when it reads the record.
      const std::size_t record_size = reader.getRecordSize(name);
      XL_CHECK(record_size <= bytes.size(), where, ": record '", name, "' claims ", record_size,
               " bytes, more than the file's ", bytes.size());
      // Every pickle: data.pkl, constants.pkl and the TorchScript sources' .debug_pkl (unpickled when a source
      // error is reported: tests/fuzz/corpus/torch_weights/crash-debug-pickle-memo-index), the name compared
      // without case, as miniz finds "data.pkl" under "data.pKl" too (crash-pickle-name-in-other-case).
      std::string suffix = name.size() >= 3 ? name.substr(name.size() - 3) : std::string();
      std::transform(suffix.begin(), suffix.end(), suffix.begin(), [](unsigned char c) { return std::tolower(c); });
      if (suffix != "pkl") continue;
      auto [data, size] = reader.getRecord(name);
      check_pickle(std::string_view(static_cast<const char*>(data.get()), size), where + ": " + name);
    }
  } catch (const c10::Error& e) {
    throw core::InputError(core::cat(where, ": not a readable torch archive (",
                                     std::string(e.what_without_backtrace()).substr(0, 200), ")"));
  }
}

c10::IValue load_torch_pickle(const std::string& bytes) {
  caffe2::serialize::PyTorchStreamReader reader(std::make_shared<BytesReader>(bytes));
  auto storages = std::make_shared<torch::jit::DeserializationStorageContext>();
  for (const auto& name : reader.getAllRecords()) {
    if (name.rfind("data/", 0) != 0) continue;
    auto [data, size] = reader.getRecord(name);
    storages->addStorage(name.substr(5), c10::Storage(c10::Storage::use_byte_size_t(), static_cast<std::int64_t>(size),
                                                      std::move(data), nullptr, false));
  }
  return torch::jit::readArchiveAndTensors("data", "", "", std::nullopt, std::nullopt, std::nullopt, reader,
                                           torch::jit::Unpickler::defaultTypeParser, storages);
}

}  // namespace xraylift::train
