#pragma once
// A small scene for exporter tests: the synthetic chest's lung model plus a truth and a prediction nodule.
#include <cmath>

#include "xraylift/viz/evidence.hpp"
#include "xraylift/viz/lung_model.hpp"
#include "xraylift/viz/scene.hpp"
#include "xraylift/viz/synthetic_chest.hpp"

namespace xraylift::viz::testing {

inline std::vector<core::BoxRecord> fixture_boxes() {
  core::BoxRecord truth;
  truth.box = {{-60, 10, -20}, {12, 10, 14}};
  truth.id = "t1";
  core::BoxRecord pred = truth;
  pred.box.center += Eigen::Vector3d(3, -2, 1);
  pred.source = core::BoxSource::kPrediction;
  pred.score = 0.6;
  pred.id = "p1";
  return {truth, pred};
}

inline const Scene& fixture_scene() {
  static const Scene scene = [] {
    const auto chest = make_synthetic_chest({3, 3, 3});
    LungModelOptions o;
    o.voxel_mm = 3;
    o.target_triangles = 3000;
    SceneStyle style;
    style.nodule_shape = NoduleShape::kBoth;
    return make_scene(build_lung_model(segment_lungs(chest.hu), o), fixture_boxes(), style);
  }();
  return scene;
}

// A synthetic evidence volume (4 mm grid centred on the world origin) with isotropic Gaussian blobs of known
// world centre, peak probability and sigma (mm); the volume holds their maximum.
struct Blob {
  Eigen::Vector3d centre;
  double peak, sigma_mm;
};
inline core::VolumeF evidence_volume(const std::vector<Blob>& blobs, const Eigen::Vector3i& dims = {60, 50, 40},
                                     double spacing_mm = 4) {
  core::VolumeF v(core::VolumeGeometry::centered(dims, Eigen::Vector3d::Constant(spacing_mm)), 0.0f);
  for (int k = 0; k < dims.z(); ++k)
    for (int j = 0; j < dims.y(); ++j)
      for (int i = 0; i < dims.x(); ++i) {
        const Eigen::Vector3d p = v.index_to_world(Eigen::Vector3d(i, j, k));
        double m = 0;
        for (const auto& b : blobs)
          m = std::max(m, b.peak * std::exp(-0.5 * (p - b.centre).squaredNorm() / (b.sigma_mm * b.sigma_mm)));
        v.at(i, j, k) = float(m);
      }
  return v;
}
// Two blobs in the synthetic chest's lungs, centred on voxel centres: a strong one near the truth nodule, a weak
// one in the other lung.
inline std::vector<Blob> fixture_blobs() { return {{{-58, 10, -18}, 0.9, 6}, {{58, 2, 10}, 0.35, 5}}; }

// fixture_scene() plus the evidence spheres of fixture_blobs().
inline const Scene& fixture_scene_with_evidence() {
  static const Scene scene = [] {
    Scene s = fixture_scene();
    add_evidence(s, evidence_volume(fixture_blobs()), {}, "fixture");
    return s;
  }();
  return scene;
}

}  // namespace xraylift::viz::testing
