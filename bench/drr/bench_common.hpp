#pragma once
// Volumes for the DRR benchmarks: the real LIDC sample (../shared) when present, and a synthetic chest-sized
// volume of the same shape (512 x 512 x 133, 0.703 x 0.703 x 2.5 mm) so figures exist on a fresh clone.
#include <memory>
#include <optional>

#include "xraylift/core/rig.hpp"
#include "xraylift/core/volume.hpp"
#include "xraylift/data/dicom.hpp"
#include "xraylift/testing/testing.hpp"

namespace xraylift::drr::bench {

inline const core::VolumeI16* lidc_sample() {
  static std::unique_ptr<core::VolumeI16> volume;
  static bool tried = false;
  if (!tried) {
    tried = true;
    if (auto dir = xraylift::testing::lidc_sample_dir())
      volume = std::make_unique<core::VolumeI16>(data::read_dicom_series(*dir).hu);
  }
  return volume.get();
}

// An elliptic body (+40 HU) with two lungs (-850 HU) and a spine (+700 HU) in air.
inline const core::VolumeI16& synthetic_chest() {
  static std::unique_ptr<core::VolumeI16> volume;
  if (!volume) {
    volume = std::make_unique<core::VolumeI16>(
        core::VolumeGeometry::centered({512, 512, 133}, {0.703125, 0.703125, 2.5}), std::int16_t(-1000));
    for (int k = 0; k < 133; ++k)
      for (int j = 0; j < 512; ++j)
        for (int i = 0; i < 512; ++i) {
          const Eigen::Vector3d p = volume->index_to_world(Eigen::Vector3d(i, j, k));
          const double body = (p.x() / 160) * (p.x() / 160) + (p.y() / 110) * (p.y() / 110);
          if (body > 1) continue;
          std::int16_t v = 40;
          const double lung_l = ((p.x() - 70) / 55) * ((p.x() - 70) / 55) + (p.y() / 75) * (p.y() / 75);
          const double lung_r = ((p.x() + 70) / 55) * ((p.x() + 70) / 55) + (p.y() / 75) * (p.y() / 75);
          if (lung_l < 1 || lung_r < 1) v = -850;
          if (p.x() * p.x() + (p.y() - 80) * (p.y() - 80) < 15 * 15) v = 700;
          volume->at(i, j, k) = v;
        }
  }
  return *volume;
}

// The seed ring with an N x N detector covering the same 400 mm field.
inline core::Rig ring(int pixels) {
  core::RingSpec s;
  s.detector.width = s.detector.height = pixels;
  s.detector.pixel_size_mm = 0.78125 * 1024.0 / pixels;
  return core::Rig::ring(s);
}

}  // namespace xraylift::drr::bench
