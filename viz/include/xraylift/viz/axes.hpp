#pragma once
// Axis mappings from the world frame (LPS, mm; core/volume.hpp) to export formats, stated once:
//   glTF 2.0 (metres, right-handed, +Y up, +Z toward the viewer / the asset's front):
//       X_gltf = +x_lps (patient's left)      = 0.001 * x
//       Y_gltf = +z_lps (superior, up)         = 0.001 * z
//       Z_gltf = -y_lps (anterior, the front)  = -0.001 * y
//     a proper rotation (det +1) and a scale, so triangle winding (outward normals) is kept.
//   OBJ / PLY: world LPS millimetres unchanged, with the "SPACE=LPS" header comment 3D Slicer reads.
//   The HTML viewer uses the glTF mapping.
#include <Eigen/Core>

namespace xraylift::viz {

inline Eigen::Vector3f lps_mm_to_gltf(const Eigen::Vector3f& p) {
  return {0.001f * p.x(), 0.001f * p.z(), -0.001f * p.y()};
}
inline Eigen::Vector3f gltf_to_lps_mm(const Eigen::Vector3f& g) {
  return {1000.f * g.x(), -1000.f * g.z(), 1000.f * g.y()};
}
// Directions (normals): the same rotation without the scale.
inline Eigen::Vector3f lps_dir_to_gltf(const Eigen::Vector3f& d) { return {d.x(), d.z(), -d.y()}; }

}  // namespace xraylift::viz
