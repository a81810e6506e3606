#pragma once
// The line-integral rules (docs/drr.md): exact voxel intersection lengths (Siddon) or ray marching with trilinear
// samples. A header of its own so the CUDA boundary (cuda_backend.hpp, compiled by nvcc) names the same enum.
namespace xraylift::drr {

enum class Integrator { kSiddon, kTrilinear };

}  // namespace xraylift::drr
