#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "xraylift/core/error.hpp"
#include "xraylift/core/safetensors.hpp"

using namespace xraylift::core;

namespace {
// A safetensors file: the 8-byte header length, the header, then `data_bytes` zero bytes.
std::string safetensors_file(const std::string& header, std::size_t data_bytes) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((std::uint64_t(header.size()) >> (8 * i)) & 0xff);
  return bytes + header + std::string(data_bytes, '\0');
}

std::string header_error(const std::string& bytes) {
  try {
    parse_safetensors_header(bytes, "w.safetensors");
  } catch (const InputError& e) {
    return e.what();
  }
  return "<accepted>";
}
}  // namespace

TEST(Safetensors, ParsesEntriesWithAbsoluteByteRanges) {
  const std::string header =
      R"({"__metadata__": {"a": "b"}, "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},)"
      R"( "s": {"dtype": "I64", "shape": [], "data_offsets": [24, 32]}})";
  const std::string bytes = safetensors_file(header, 32);
  ASSERT_TRUE(looks_like_safetensors(bytes));
  const auto entries = parse_safetensors_header(bytes, "w.safetensors");
  ASSERT_EQ(entries.size(), 2u);
  const auto& w = entries[0].name == "w" ? entries[0] : entries[1];
  EXPECT_EQ(w.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(w.begin, 8 + header.size());
  EXPECT_EQ(w.end - w.begin, 24u);
  EXPECT_EQ(safetensors_dtype_bytes("BF16"), 2);
  EXPECT_EQ(safetensors_dtype_bytes("F8"), 0);
}

// Catches a weight reader that allocates the declared shape first: a huge or negative shape ended in a libtorch
// allocator trace (issue 23). Each is refused naming the file, the tensor and the field.
TEST(Safetensors, DeclaredShapesAndRangesAreCheckedBeforeAllocating) {
  auto entry = [](const std::string& shape, const std::string& offsets) {
    return safetensors_file(R"({"w": {"dtype": "F32", "shape": )" + shape + R"(, "data_offsets": )" + offsets + "}}",
                            16);
  };
  EXPECT_NE(header_error(entry("[1000000000, 1000000000]", "[0, 16]")).find("the reader's limit"), std::string::npos)
      << header_error(entry("[1000000000, 1000000000]", "[0, 16]"));
  EXPECT_NE(header_error(entry("[-4]", "[0, 16]")).find("w.safetensors: tensor 'w': shape = [-4]"), std::string::npos)
      << header_error(entry("[-4]", "[0, 16]"));
  EXPECT_NE(header_error(entry("[4]", "[0, 4000]")).find("leave the 16 data bytes"), std::string::npos)
      << header_error(entry("[4]", "[0, 4000]"));
  EXPECT_NE(header_error(entry("[3]", "[0, 16]")).find("has 16 bytes but shape [3] x F32 needs 12"), std::string::npos)
      << header_error(entry("[3]", "[0, 16]"));
  EXPECT_NE(header_error(entry("[4]", "[\"0\", 16]")).find("data_offsets = [\"0\",16]"), std::string::npos)
      << header_error(entry("[4]", "[\"0\", 16]"));
  std::string huge_header = safetensors_file("{}", 0);
  huge_header[7] = 0x7f;  // a header length of ~9e18 bytes
  EXPECT_NE(header_error(huge_header).find("safetensors header length"), std::string::npos)
      << header_error(huge_header);
}
