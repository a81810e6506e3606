#pragma once
// `triangulate`: the geometry-only 3D predictor (no training beyond the 2D detector). It associates 2D detections
// of different views whose back-projected rays pass near each other, solves each cluster's centre by least squares
// over its rays, then fits the axis-aligned 3D box whose projections (core::project_box) best match the member
// boxes. Algorithm, options and what the tests guarantee: docs/detect3d.md.
#include <vector>

#include "xraylift/core/box_set.hpp"
#include "xraylift/core/config.hpp"
#include "xraylift/detect3d/ray_gate.hpp"
#include "xraylift/detect3d/scene_range.hpp"
#include "xraylift/detect3d/view_detections.hpp"

namespace xraylift::detect3d {

struct TriangulateOptions {
  // A 3D box needs detections in at least this many views.
  int min_views = 3;
  // Association gate (the shared ray rule, detect3d/ray_gate.hpp): a detection joins a cluster when its ray (or, once
  // a box is fitted, the centre of its box) lies within rays.tolerance_mm(the detection's extent back-projected to the
  // cluster's depth); ray pairs closer than rays.min_ray_angle_deg to parallel (or anti-parallel, opposite views)
  // give no seed point. Keys max_ray_distance_mm (5), ray_distance_fraction (0.15), min_ray_angle_deg (10).
  RayGate rays;
  // Once a box is fitted, a detection whose width or height differs from the box's projection by more than
  // this factor (1 px slack) does not join.
  double max_size_ratio = 2.0;
  // Detections scoring below this are ignored.
  double min_detection_score = 0.0;
  // Association / fit rounds per cluster.
  int max_iterations = 5;
  // Fit the box to the member boxes' projections (Levenberg-Marquardt); false keeps the rays' least-squares
  // centre and the linear back-projected size.
  bool fit_box = true;
  // With fit_box: a member whose box edges the box fitted to the other members misses by more than this
  // + 3 x their median edge error (mm at the box's depth) is dropped and not re-associated (a neighbouring
  // nodule's detection taken in a view where this one has none).
  double outlier_edge_mm = 1.0;
  // A cluster is kept only when its members' median edge error (box fitted vs detected, mm at the box's depth)
  // is at most max_edge_error_mm + max_edge_error_px pixels: false positives that happen to align in 3 views
  // fit one box far worse than a nodule's detections (docs/detect3d.md has the measured separation).
  double max_edge_error_mm = 2.0;
  double max_edge_error_px = 2.0;
  // Smallest box extent, mm.
  double min_size_mm = 0.5;
  // Two kept boxes with 3D IoU above this are duplicates; the lower-scoring one is dropped (1 keeps all).
  double merge_iou = 0.3;
  // Predictions scoring below this are not returned.
  double min_score = 0.0;
  // Seeds and boxes outside this world box (mm) are rejected (the shared `detect3d.scene`).
  SceneRange scene;

  // Reads the keys above from a `triangulate:` section, with the shared scene box; a key of the section that it
  // does not know is a ConfigError naming the key and its file.
  static TriangulateOptions from_config(const core::Config& section, const SceneRange& scene = {});
  // Throws ConfigError naming the offending option.
  void validate() const;
};

// One entry per view (at least 2 and at least min_views). Returns kPrediction boxes in world mm, best score first;
// score in [0, 1] = sum of member scores / max(members, views in which the box is visible). Deterministic.
// Throws InputError naming the view and box for malformed input (sizes, non-finite boxes, missing cameras).
std::vector<core::BoxRecord> triangulate(const std::vector<ViewDetections>& views, const TriangulateOptions& options);

}  // namespace xraylift::detect3d
