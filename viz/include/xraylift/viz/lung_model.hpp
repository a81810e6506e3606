#pragma once
// A lung model: one closed surface per lung (world LPS mm) and its volume.
//   from a CT: segment_lungs -> mask_surface (box-averaged to ~ target voxel size, blurred) -> Taubin -> decimate.
//   generic (X-rays only): a template scaled to a predicted total lung capacity (generic_lung_model.hpp).
#include <string>

#include "xraylift/viz/lung_segmentation.hpp"
#include "xraylift/viz/mesh.hpp"
#include "xraylift/viz/surface.hpp"

namespace xraylift::viz {

struct LungMesh {
  std::string name;  // "right_lung" | "left_lung"
  Mesh mesh;
  double mask_ml = 0;  // voxel count volume of the mask
  double mesh_ml = 0;  // enclosed volume of the mesh
};

struct LungModel {
  std::vector<LungMesh> lungs;  // right first, then left (absent lungs are skipped)
  double total_ml() const;
  Mesh combined() const;
  std::size_t triangle_count() const;
};

struct LungModelOptions {
  double voxel_mm = 1.5;  // box-average the mask to about this size (in-plane and axially)
  double blur_sigma_mm = 2.0;
  TaubinOptions taubin{20, 0.5, -0.53};
  std::size_t target_triangles = 20000;  // for the whole model, shared by the lungs in proportion to their size
};

LungModel build_lung_model(const LungSegmentation& seg, const LungModelOptions& options = {});

}  // namespace xraylift::viz
