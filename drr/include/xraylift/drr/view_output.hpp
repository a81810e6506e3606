#pragma once
// Writing one rendered case to a folder (docs/drr.md):
//   viewNN.png          uint16, value = round(65535 * clamp(L / png_l_max, 0, 1)) (the "render.png_window" block of
//                       infos.json states it; L = value / 65535 * png_l_max)
//   viewNN.npy          float32 H x W line integrals L (canonical)
//   viewNN_overlay.png  8-bit display image (per-image window over the rays that cross the volume) with the
//                       ground-truth 2D boxes drawn (the sanity check of projections): nodules red, ignore
//                       regions (sub-3 mm marks, non-nodules, truths failing the truth filter) dashed orange
//   viewNN_mask.png     uint16 nodule label image (0 none, n = gt_boxes_3d[n-1]) when the mask was rendered
//   viewNN_transmission.npy  float32 I/I0 = exp(-L), with Poisson noise for `photons` > 0 (when asked for)
//   viewNN.dcm          (with `dicom`) a DX-like Secondary Capture storing round(I0 exp(-L)) in 16 bits, with the
//                       camera in xraylift's private block (data/radiograph.hpp); `views import` reads it back
//   infos.json          core::ViewSet (format xraylift.views): cameras, 3D boxes, 2D boxes per view, file names
#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/core/box_set.hpp"
#include "xraylift/core/config.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/drr/options.hpp"
#include "xraylift/drr/render.hpp"

namespace xraylift::drr {

struct ViewOutputOptions {
  double png_l_max = 10.0;  // line integral mapped to 65535 in the 16-bit PNG
  bool overlay = true;
  bool transmission = false;  // also write viewNN_transmission.npy
  double photons = 0.0;       // > 0: Poisson noise for that many photons per pixel (augmentation)
  std::uint64_t noise_seed = 0;
  std::string source_case;           // recorded as render.source_case (predict's lung filter finds the CT by it)
  bool dicom = false;                // also write viewNN.dcm (config key drr.dicom, `render --dicom`)
  double dicom_i0 = 65535;           // the stored value of L = 0 in viewNN.dcm
  std::vector<double> dicom_sdd_mm;  // per view the source-detector distance written with the spacing (0: none)
  // Truths failing it become ignore regions in gt_boxes_3d and gt_boxes_2d (config section `truth`).
  core::TruthFilter truth;

  // The `render`-only keys of the drr section (png_l_max, overlay, transmission, photons, noise_seed) and the
  // optional top-level `truth` section (min_diameter_mm, min_readers) of a config; validated.
  static ViewOutputOptions from_config(const core::Config& config);
};

// The 16-bit display value of a line integral (the documented window).
std::uint16_t png_value(float line_integral, double png_l_max);

// The 16-bit stored transmission of a line integral in viewNN.dcm: round(i0 exp(-L)), clamped to [0, 65535].
// Import reads L' = -ln(max(q, 0.5) / i0); for q >= 1 the quantization error is |L' - L| <= -ln(1 - 0.5 / q),
// about 0.5 e^L / i0 (i0 = 65535: 7.6e-6 at L = 0, 1.1e-3 at L = 5, 0.023 at L = 8; docs/drr.md).
std::uint16_t transmission_value(float line_integral, double i0);

// Writes every file atomically and returns the view set written to dir/infos.json.
core::ViewSet write_views(const std::filesystem::path& dir, const std::string& case_id, const core::Rig& rig,
                          const DrrImages& images, const std::vector<core::BoxRecord>& nodules,
                          const RenderOptions& render_options, const ViewOutputOptions& output_options = {});

// The same files for line integrals that did not come from the renderer (`views import`): `render_info` becomes
// the view set's "render" block (write_views passes the renderer's settings), to which the PNG window is added.
core::ViewSet write_view_files(const std::filesystem::path& dir, const std::string& case_id, const core::Rig& rig,
                               const DrrImages& images, const std::vector<core::BoxRecord>& nodules,
                               nlohmann::json render_info, const ViewOutputOptions& output_options = {});

}  // namespace xraylift::drr
