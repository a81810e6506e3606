#pragma once
// Phantoms written in the real formats: a DICOM series (DCMTK) plus an LIDC-style XML from several simulated
// readers whose outlines differ slightly (one exact, one a pixel wider, one a pixel tighter, one skipping the
// end slices), so that the real readers are tested end to end with a known truth.
#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/data/dicom.hpp"
#include "xraylift/data/lidc.hpp"
#include "xraylift/data/phantom.hpp"

namespace xraylift::data {

struct SimulatedReadOptions {
  int readers = 4;              // 1..4
  bool non_nodule = true;       // reader 1 also marks a non-nodule (on a vessel)
  double small_below_mm = 3.0;  // nodules with a smaller diameter get single-point marks (LIDC < 3 mm practice)
};

// The annotations the readers would write for phantom `ph` stored as `slices` (as returned by write_dicom_series).
LidcAnnotations simulate_readers(const Phantom& ph, const std::vector<DicomSlice>& slices,
                                 const std::string& series_uid, const std::string& study_uid,
                                 const SimulatedReadOptions& o = {});

struct WrittenLidcCase {
  std::filesystem::path dicom_dir;  // folder/dicom
  std::filesystem::path xml_file;   // folder/annotations.xml
  std::vector<DicomSlice> slices;
  std::string series_uid;
};
// Writes folder/dicom/*.dcm and folder/annotations.xml (each atomically).
WrittenLidcCase write_phantom_as_lidc(const std::filesystem::path& folder, const Phantom& ph,
                                      const SimulatedReadOptions& o = {},
                                      const Eigen::Vector3d& scanner_offset_mm = Eigen::Vector3d(0, 0, -180));

}  // namespace xraylift::data
