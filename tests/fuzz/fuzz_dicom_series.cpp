// The DICOM series reader on a folder of fuzzed files. Input: [4-byte little-endian length n][file 1: n bytes]
// [file 2: the rest] (or one file when n does not fit), written to a private temporary folder; the reader must
// return a series or raise core::InputError, whatever the bytes (DCMTK's own parser included).
#include <dcmtk/config/osconfig.h>
#include <dcmtk/oflog/oflog.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_scratch.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/data/dicom.hpp"

namespace fs = std::filesystem;

namespace {
fs::path folder;

void write(const fs::path& p, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  OFLog::configure(OFLogger::OFF_LOG_LEVEL);
  folder = xraylift::fuzz::scratch_folder("dicom");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (const auto& e : fs::directory_iterator(folder)) fs::remove(e.path());
  std::uint32_t n = 0;
  if (size >= 4)
    n = std::uint32_t(data[0]) | std::uint32_t(data[1]) << 8 | std::uint32_t(data[2]) << 16 |
        std::uint32_t(data[3]) << 24;
  if (size >= 4 && n <= size - 4) {
    write(folder / "1.dcm", data + 4, n);
    write(folder / "2.dcm", data + 4 + n, size - 4 - n);
  } else {
    write(folder / "1.dcm", data, size);
  }
  xraylift::data::DicomReadOptions o;
  o.threads = 1;
  try {
    const auto s = xraylift::data::read_dicom_series(folder, o);
    if (s.hu.empty()) __builtin_trap();
  } catch (const xraylift::core::InputError&) {}
  return 0;
}
