#include "dicom_tags.hpp"

#include <cstdio>

#include "xraylift/core/error.hpp"

namespace xraylift::data::detail {

std::string get_string(DcmItem& item, const DcmTagKey& tag) {
  OFString v;
  if (item.findAndGetOFStringArray(tag, v).good()) {
    std::string s = v.c_str();
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    return s;
  }
  return {};
}

long get_long(DcmItem& item, const DcmTagKey& tag, long fallback) {
  Uint16 u;
  if (item.findAndGetUint16(tag, u).good()) return u;
  Sint32 s;
  if (item.findAndGetSint32(tag, s).good()) return s;
  const std::string text = get_string(item, tag);
  if (!text.empty()) {
    try {
      return std::stol(text);
    } catch (...) {}
  }
  return fallback;
}

std::string tag_name(const DcmTagKey& tag) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "(%04X,%04X)", tag.getGroup(), tag.getElement());
  return core::cat(DcmTag(tag).getTagName(), " ", buf);
}

std::string ds_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

void put(DcmDataset& d, const DcmTag& tag, const std::string& value, const std::string& file) {
  const OFCondition st = d.putAndInsertString(tag, value.c_str());
  XL_CHECK(st.good(), file, ": cannot set DICOM tag ", tag_name(tag), " to '", value, "' (", st.text(), ")");
}

}  // namespace xraylift::data::detail
