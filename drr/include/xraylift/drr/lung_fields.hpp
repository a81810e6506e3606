#pragma once
// Lung fields per view (docs/drr.md "Lung fields and the visual hull"): where a view sees lung, from its line
// integrals alone (classical, no network). A global threshold on L fails (L grows with the body's thickness: the
// thin body edge of an oblique view is darker than the lungs), so the rule is physical:
//   1. body field = L > body_threshold, its largest 8-connected component, holes filled;
//   2. the body's path length T per pixel comes from the visual hull of the body fields (visual_hull.hpp), rendered
//      as a volume of attenuation 1 /mm;
//   3. soft tissue along the whole ray would give mu_water T; the lungs (about -850 HU) give less: the deficit
//      T - L / mu_water (mm of "missing water") is about 0.85 times the lung path length. Lung candidates =
//      body field eroded by body_margin (a fraction of the width) & deficit > min_deficit_mm & deficit >
//      min_deficit_fraction T (fat lacks ~10 % of water's attenuation: a relative deficit that fat alone reaches
//      only along tangent rays through the skin's fat layer);
//   4. opened by open_px, the largest components kept (at most max_components, each >= min_component_fraction of
//      the largest), closed by close_px and holes filled (vessels and nodules inside a field are field).
// The label a field is measured against is the projected CT lung mask (projected_lung_fields): a pixel whose ray
// crosses the lung mask for more than min_path_mm.
#include <cstdint>
#include <vector>

#include "xraylift/core/camera.hpp"
#include "xraylift/core/volume.hpp"

namespace xraylift::drr {

// A binary image, row-major, 1 = inside.
struct Mask2D {
  int width = 0, height = 0;
  std::vector<std::uint8_t> pixels;
  std::uint8_t at(int col, int row) const { return pixels[std::size_t(row) * width + col]; }
  std::size_t count() const;
};

struct LungFieldOptions {
  double body_threshold = 0.3;      // L of the body's outline (air is ~0)
  double body_margin = 0.01;        // erosion of the body, fraction of the image width
  double mu_water_per_mm = 0.0192;  // the view set's render.mu_water_per_mm when it has one
  double min_deficit_mm = 4;
  // and deficit > this fraction of T: fat (about -100 HU) lacks ~10 % of water's attenuation, so a tangent ray
  // through subcutaneous fat has a deficit of tens of mm but a small fraction of its path (LIDC-0001's body edge)
  double min_deficit_fraction = 0.1;
  int open_px = 1;  // at 256 px; scaled with the image width
  int close_px = 3;
  int max_components = 2;
  double min_component_fraction = 0.1;
  void validate() const;  // ConfigError naming the field
};

// The body field of one view (step 1) from its line-integral image (height x width floats, row-major). InputError
// for an empty image or non-finite values.
Mask2D body_field(const float* line_integral, int width, int height, const LungFieldOptions& options = {});
// The lung field of one view (steps 3-4) from its line integrals, its body field and the body path length per
// pixel (mm, same layout).
Mask2D lung_field(const float* line_integral, const Mask2D& body, const float* body_path_mm,
                  const LungFieldOptions& options = {});

// Step 4 alone on a raw field (opening, the largest components, closing, holes filled), e.g. a network's.
void clean_up_lung_field(Mask2D& field, const LungFieldOptions& options = {});

// The projected lung mask of a CT (labels != 0 are lung) through each camera: ray path length through the mask
// (the DRR renderer's Siddon integrator on the mask as an attenuation of 1/mm) > min_path_mm.
std::vector<Mask2D> projected_lung_fields(const core::VolumeU8& lung_labels, const std::vector<core::Camera>& cameras,
                                          double min_path_mm = 1.0);
// The path length (mm) through the lung mask per pixel of each camera (row-major), what the fields threshold.
std::vector<std::vector<float>> projected_lung_paths(const core::VolumeU8& lung_labels,
                                                     const std::vector<core::Camera>& cameras);

// Dice of two masks of the same size (1 when both are empty). InputError for differing sizes.
double mask_dice(const Mask2D& a, const Mask2D& b);

}  // namespace xraylift::drr
