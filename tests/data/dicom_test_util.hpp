#pragma once
// Small DICOM series written at test time, and DCMTK edits that break them in one specific way.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <filesystem>
#include <string>

#include "xraylift/data/dicom.hpp"

namespace xraylift::testing_dicom {

inline core::VolumeI16 ramp_volume(int nx = 24, int ny = 20, int nz = 8, Eigen::Vector3d spacing = {0.8, 0.8, 2.5}) {
  core::VolumeI16 v(core::VolumeGeometry::centered({nx, ny, nz}, spacing));
  for (int k = 0; k < nz; ++k)
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i) v.at(i, j, k) = static_cast<std::int16_t>(-1000 + 7 * i + 13 * j + 101 * k);
  return v;
}

// Applies edit(dataset) to one file and saves it back.
template <typename Edit>
void edit_dicom(const std::filesystem::path& file, Edit edit) {
  DcmFileFormat ff;
  ASSERT_TRUE(ff.loadFile(file.c_str()).good()) << file;
  edit(*ff.getDataset());
  ASSERT_TRUE(ff.saveFile(file.c_str(), EXS_LittleEndianExplicit).good()) << file;
}

}  // namespace xraylift::testing_dicom
