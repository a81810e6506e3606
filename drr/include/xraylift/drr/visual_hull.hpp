#pragma once
// The lungs from the views' lung fields (docs/drr.md "Lung fields and the visual hull"): a voxel grid over the
// scene box is carved, keeping the voxels whose centre projects (core/voxel_projection.hpp, the fusion detector's
// projection) inside the lung field of at least min_views views (<= 0: all but |min_views|). A voxel that a view does
// not see (outside its image) counts as outside that view's field. The kept voxels are split at the body midline (x =
// midline_x_mm; the patient's right is -x in LPS) and the largest 6-connected component of each side is that lung. A
// visual hull contains the true shape when every field contains the projection, and over-estimates it where the shape
// is concave or hidden behind itself in every view (docs/viz.md "Lung model from the views").
#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/core/box.hpp"
#include "xraylift/core/camera.hpp"
#include "xraylift/data/lung_segmentation.hpp"
#include "xraylift/drr/lung_fields.hpp"

namespace xraylift::drr {

struct VisualHullOptions {
  double voxel_mm = 3.0;
  // > 0: at least this many views; <= 0: N + min_views (0: every view, -1: all but one, the default: one view's
  // field missing a part of the lung, e.g. behind the heart, does not carve it away; measured in docs/viz.md)
  int min_views = -1;
  bool auto_box = true;       // the box every view sees at the isocentre (scene_box_of_views)
  core::Box3D box{};          // used when auto_box is false
  double midline_x_mm = 0.0;  // right / left split
  std::int64_t max_voxels = 8'000'000;
  int threads = 0;
  void validate(std::size_t views) const;  // ConfigError naming the field
  int needed_views(std::size_t views) const { return min_views > 0 ? min_views : int(views) + min_views; }
};

// The box that every camera sees at its isocentre distance (the world origin): per camera the half field
// (W / 2 / fx and H / 2 / fy, times the source's distance to the origin); x and y take the smallest half width,
// z the smallest half height. InputError without cameras.
core::Box3D scene_box_of_views(const std::vector<core::Camera>& cameras);

// The carved grid alone: 1 where the voxel centre lies in >= min_views fields (the body hull of lungs_from_views).
core::VolumeU8 carve_mask(const std::vector<core::Camera>& cameras, const std::vector<Mask2D>& fields,
                          const VisualHullOptions& options = {});

// Carves, splits at the midline, keeps the largest component per side; labels are data::LungLabel (right 1, left 2),
// volumes in mL. ConfigError for a grid over max_voxels, InputError for fields that do not match the cameras (count or
// size) or no lung voxel left.
data::LungSegmentation carve_visual_hull(const std::vector<core::Camera>& cameras, const std::vector<Mask2D>& fields,
                                         const VisualHullOptions& options = {});

// Keeps the largest 6-connected component of the voxels equal to `label` (the others of that label become
// background).
void keep_largest_component(core::VolumeU8& labels, std::uint8_t label);

struct ViewsLungs {
  data::LungSegmentation lungs;
  core::VolumeU8 body;                      // the visual hull of the body fields
  std::vector<Mask2D> body_fields, fields;  // per view
  std::vector<core::Camera> cameras;
  // per view, what the fields were made of (the inputs of a learned field, lung_field_net.hpp)
  std::vector<std::vector<float>> line_integrals, body_path_mm;
  double mu_water_per_mm = 0;
  std::string case_id;
  double seconds = 0;
};

// Line-integral images (row-major, one per camera) -> body fields -> body hull (every view) -> body path length
// per pixel -> lung fields (lung_fields.hpp) -> visual hull. InputError for images that do not match the cameras.
ViewsLungs lungs_from_images(const std::vector<std::vector<float>>& line_integrals,
                             const std::vector<core::Camera>& cameras, const LungFieldOptions& fields = {},
                             const VisualHullOptions& hull = {});

// The same from a view set (infos.json): body fields -> body hull (every view) -> body path length per pixel -> lung
// fields (lung_fields.hpp; mu_water from the view set's render.mu_water_per_mm when it has one) -> visual hull.
// InputError (naming the file) for a view set without cameras or line integrals.
ViewsLungs lungs_from_views(const std::filesystem::path& infos, const LungFieldOptions& fields = {},
                            const VisualHullOptions& hull = {});

}  // namespace xraylift::drr
