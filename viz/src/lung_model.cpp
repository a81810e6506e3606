#include "xraylift/viz/lung_model.hpp"

#include <cmath>

#include "xraylift/core/error.hpp"

namespace xraylift::viz {

double LungModel::total_ml() const {
  double t = 0;
  for (const auto& l : lungs) t += l.mask_ml;
  return t;
}

Mesh LungModel::combined() const {
  Mesh m;
  for (const auto& l : lungs) m.append(l.mesh);
  return m;
}

std::size_t LungModel::triangle_count() const {
  std::size_t n = 0;
  for (const auto& l : lungs) n += l.mesh.triangle_count();
  return n;
}

LungModel build_lung_model(const LungSegmentation& seg, const LungModelOptions& o) {
  XL_CHECK(!seg.labels.empty(), "build_lung_model: empty segmentation");
  XL_CHECK(std::isfinite(o.voxel_mm) && o.voxel_mm > 0, "lung model voxel_mm ", o.voxel_mm, ": expected > 0");
  XL_CHECK(o.target_triangles >= 100, "lung model target_triangles ", o.target_triangles, ": expected >= 100");
  Eigen::Vector3i factor;
  for (int a = 0; a < 3; ++a) factor[a] = std::max(1, int(std::lround(o.voxel_mm / seg.labels.spacing()[a])));
  LungModel model;
  const double total = seg.right_ml + seg.left_ml;
  for (auto [label, name, ml] :
       {std::tuple{kRightLung, "right_lung", seg.right_ml}, std::tuple{kLeftLung, "left_lung", seg.left_ml}}) {
    if (ml <= 0) continue;
    core::VolumeU8 mask(seg.labels.geometry(), 0);
    for (std::size_t p = 0; p < mask.values().size(); ++p) mask.values()[p] = seg.labels.values()[p] == label;
    LungMesh lm;
    lm.name = name;
    lm.mask_ml = ml;
    lm.mesh = mask_surface(mask, o.blur_sigma_mm, factor);
    taubin_smooth(lm.mesh, o.taubin);
    const auto share = std::size_t(std::max(100.0, double(o.target_triangles) * ml / total));
    decimate(lm.mesh, share);
    lm.mesh_ml = signed_volume(lm.mesh) / 1000.0;
    model.lungs.push_back(std::move(lm));
  }
  return model;
}

}  // namespace xraylift::viz
