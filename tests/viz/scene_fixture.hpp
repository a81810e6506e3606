#pragma once
// A small scene for exporter tests: the synthetic chest's lung model plus a truth and a prediction nodule.
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

}  // namespace xraylift::viz::testing
