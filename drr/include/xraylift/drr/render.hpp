#pragma once
// DRR rendering: a CT volume (HU) seen through every camera of a rig, all views in one call.
//   line_integral[v][row][col] = integral of mu ds along the ray from camera v's source through the centre of pixel
//   (col, row), clipped to the volume box (core/volume.hpp conventions). Unitless (mm x /mm).
// Optional (RenderOptions::mask): per pixel the label of the nodule box the ray crosses longest (0 = none, n = box
// n-1 of the list given) and the total path length (mm) through nodule boxes.
#include <cstdint>
#include <vector>

#include "xraylift/core/box_set.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/core/volume.hpp"
#include "xraylift/drr/options.hpp"

namespace xraylift::drr {

struct DrrImages {
  int views = 0, height = 0, width = 0;
  std::vector<float> line_integral;         // views x height x width
  std::vector<std::uint16_t> nodule_label;  // same shape when the mask was asked for, else empty
  std::vector<float> nodule_path_mm;        // same shape when the mask was asked for, else empty

  std::size_t view_pixels() const { return static_cast<std::size_t>(height) * width; }
  const float* view(int v) const { return line_integral.data() + v * view_pixels(); }
};

// HU -> attenuation (/mm), once per render (docs/drr.md). Validates the volume.
core::VolumeF attenuation_volume(const core::VolumeI16& hu, const RenderOptions& options);
core::VolumeF attenuation_volume(const core::VolumeF& hu, const RenderOptions& options);

// Renders HU volumes. Throws InputError for an empty volume, zero/non-finite spacing, a non-axis-aligned
// volume, an empty rig, a camera whose source is inside the volume box, a rig where no view sees the volume,
// or bad options. `nodules` feed the optional mask only.
DrrImages render(const core::VolumeI16& hu, const core::Rig& rig, const RenderOptions& options,
                 const std::vector<core::BoxRecord>& nodules = {});
DrrImages render(const core::VolumeF& hu, const core::Rig& rig, const RenderOptions& options,
                 const std::vector<core::BoxRecord>& nodules = {});
// Renders an attenuation volume (/mm) directly (analytic tests, callers that built mu themselves).
DrrImages render_attenuation(const core::VolumeF& mu, const core::Rig& rig, const RenderOptions& options,
                             const std::vector<core::BoxRecord>& nodules = {});

// The kernel view of a volume's geometry (validated: non-empty, finite positive spacing, axis-aligned).
GridF grid_of(const core::VolumeGeometry& geometry, const char* where);
// Throws InputError when the rig is empty, a camera's source is inside the volume box, or no ray of any view
// crosses the volume.
void validate_rig_for_volume(const core::Rig& rig, const core::VolumeGeometry& geometry);

// Transmission I/I0 = exp(-L); with photons > 0, Poisson noise for I0 = photons per pixel (augmentation),
// deterministic from seed.
std::vector<float> transmission(const DrrImages& images, double photons = 0.0, std::uint64_t seed = 0);

}  // namespace xraylift::drr
