#pragma once
// Surface extraction and mesh processing: marching tetrahedra (a marching-cubes variant without the 256-case
// table and without its ambiguous cases: each cube is cut into 6 tetrahedra along its main diagonal, the same
// way in every cube, so neighbouring cubes share faces exactly and the surface is watertight), Taubin smoothing
// (lambda/mu, keeps volume) and decimation (meshoptimizer, with the own quadric-error edge collapse as the fallback
// that keeps a closed mesh closed).
#include "xraylift/core/volume.hpp"
#include "xraylift/viz/mesh.hpp"

namespace xraylift::viz {

// Iso-surface of `field` at `iso` in world coordinates. "Inside" is value > iso; the outside of the grid
// counts as outside, so the surface is closed. Triangles face out of the inside region.
Mesh extract_isosurface(const core::VolumeF& field, float iso);

// Isosurface at 0.5 of a binary mask (nonzero = inside), optionally box-averaged by `downsample` voxels per axis
// first, then Gaussian-blurred (sigma in mm, 0 = none): that removes the staircase so areas and volumes match
// the underlying shape.
Mesh mask_surface(const core::VolumeU8& mask, double blur_sigma_mm = 1.0,
                  const Eigen::Vector3i& downsample = Eigen::Vector3i::Ones());
// Box average of a mask (nonzero = 1) by `factor` voxels per axis; partial blocks at the far edges average what
// they hold. The result's voxel centres are the blocks' centres.
core::VolumeF downsample_mask(const core::VolumeU8& mask, const Eigen::Vector3i& factor);

struct TaubinOptions {
  int iterations = 10;
  double lambda = 0.5;
  double mu = -0.53;  // |mu| > lambda: the pass-band that keeps volume (Taubin 1995)
};
void taubin_smooth(Mesh& m, const TaubinOptions& options = {});

// Decimation to at most target_triangles (docs/viz.md "Libraries"): meshoptimizer's simplifier, then removal of
// coincident opposite triangle pairs; when the input was a closed manifold and that result is not, the own QEM
// (decimate_qem) decimates the input instead, so a closed input always gives a closed output.
void decimate(Mesh& m, std::size_t target_triangles);
// Edge collapse by quadric error (Garland & Heckbert 1997) until at most target_triangles remain (or no legal
// collapse is left). A collapse is refused when it would break the manifold (link condition) or flip a face.
void decimate_qem(Mesh& m, std::size_t target_triangles);
// meshoptimizer's meshopt_simplify alone (no link condition: may leave a closed mesh not closed); max_error_mm
// bounds its quadric error estimate (infinity = none). Unused vertices are dropped.
void decimate_meshopt(Mesh& m, std::size_t target_triangles, double max_error_mm);

// Separable Gaussian blur of a float volume (sigma in voxels per axis).
core::VolumeF gaussian_blur(const core::VolumeF& v, const Eigen::Vector3d& sigma_voxels);

}  // namespace xraylift::viz
