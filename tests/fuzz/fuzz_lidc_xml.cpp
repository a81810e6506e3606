// LIDC annotation XML: any byte string either parses or raises core::InputError (SkippedAnnotationFile for
// radiograph messages); parsed annotations write back to XML that parses again.
#include <cstddef>
#include <cstdint>
#include <string>

#include "xraylift/data/lidc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto a = xraylift::data::parse_lidc_xml(text, "fuzz.xml");
    const auto again = xraylift::data::parse_lidc_xml(xraylift::data::write_lidc_xml(a), "again.xml");
    if (again.marks.size() != a.marks.size() || again.non_nodules.size() != a.non_nodules.size()) __builtin_trap();
  } catch (const xraylift::core::InputError&) {}
  return 0;
}
