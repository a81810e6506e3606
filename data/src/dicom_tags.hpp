#pragma once
// DCMTK attribute helpers every DICOM reader and writer of data uses (internal to data): read a tag as text or an
// integer, write one with an error that names the file and the tag.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <string>

namespace xraylift::data::detail {

// The tag's value as text without DICOM's trailing padding; empty when absent.
std::string get_string(DcmItem& item, const DcmTagKey& tag);
// The tag as an integer (US, SL or a decimal/integer string); `fallback` when absent or unreadable.
long get_long(DcmItem& item, const DcmTagKey& tag, long fallback);
// "PixelSpacing (0028,0030)": the dictionary name and the group and element.
std::string tag_name(const DcmTagKey& tag);
// A DICOM decimal string (at most 16 characters).
std::string ds_text(double v);
// Sets a string-valued tag (a DcmTag carries the VR a private tag needs); InputError naming the file, the tag and the
// value when DCMTK refuses it.
void put(DcmDataset& d, const DcmTag& tag, const std::string& value, const std::string& file);

}  // namespace xraylift::data::detail
