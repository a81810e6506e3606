#pragma once
// Renderer settings (docs/drr.md), read from a config section ("drr") with the defaults stated here.
//   drr:
//     integrator: siddon | trilinear     # exact voxel intersection lengths | ray marching with trilinear samples
//     step_voxels: 0.5                   # trilinear step, in units of the smallest voxel spacing
//     step_mm: 0                         # trilinear step in mm; > 0 overrides step_voxels (docs/drr.md accuracy table)
//     half_texture: false                # trilinear samples mu rounded to binary16 (the CUDA half texture; the CPU
//                                        # twin rounds the same way, so both devices render the same field)
//     mu_water_per_mm: 0.0192            # linear attenuation of water
//     bone: none | linear                # linear: nanodrr-style boost above bone_start_hu, mu_bone at +1000 HU
//     mu_bone_per_mm: 0.0573
//     bone_start_hu: 0
//     mask: false                        # also render the nodule label and path-length images
//     device: cpu | cuda
#include <nlohmann/json.hpp>

#include <string>

#include "xraylift/core/config.hpp"
#include "xraylift/drr/integrator.hpp"
#include "xraylift/drr/ray_math.hpp"

namespace xraylift::drr {

enum class BoneModel { kNone, kLinear };
enum class Device { kCpu, kCuda };

const char* to_string(Integrator i);
const char* to_string(BoneModel b);
const char* to_string(Device d);
Integrator parse_integrator(const std::string& name, const std::string& where);
Device parse_device(const std::string& name, const std::string& where);

struct RenderOptions {
  Integrator integrator = Integrator::kSiddon;
  double step_voxels = 0.5;
  double step_mm = 0.0;  // > 0: the trilinear step in mm, overriding step_voxels
  bool half_texture = false;
  double mu_water_per_mm = 0.0192;
  BoneModel bone = BoneModel::kNone;
  double mu_bone_per_mm = 0.0573;
  double bone_start_hu = 0.0;
  bool mask = false;
  int threads = 0;  // CPU workers; 0: core::thread_count() (the top-level config key `threads`)
  Device device = Device::kCpu;

  // Throws ConfigError naming the field for non-finite or out-of-range values.
  void validate(const std::string& where = "drr options") const;
  static RenderOptions from_config(const core::Config& section);
  nlohmann::json to_json() const;
  AttenuationModel attenuation() const;
  // The trilinear step in mm for a volume whose smallest spacing is min_spacing_mm.
  double trilinear_step_mm(double min_spacing_mm) const { return step_mm > 0 ? step_mm : step_voxels * min_spacing_mm; }
};

}  // namespace xraylift::drr
