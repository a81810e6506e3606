#pragma once
// Triangle meshes in the world frame (LPS, mm; core/volume.hpp). Triangles are counter-clockwise seen from
// outside, so normals point out of the enclosed region and signed_volume() > 0 for a closed outward mesh.
#include <Eigen/Core>
#include <string>
#include <vector>

namespace xraylift::viz {

struct Mesh {
  std::vector<Eigen::Vector3f> vertices;   // world mm
  std::vector<Eigen::Vector3i> triangles;  // vertex indices, CCW from outside

  std::size_t vertex_count() const { return vertices.size(); }
  std::size_t triangle_count() const { return triangles.size(); }
  bool empty() const { return triangles.empty(); }
  // Appends other (indices shifted).
  void append(const Mesh& other);
};

struct Bounds {
  Eigen::Vector3d lo = Eigen::Vector3d::Constant(1e300);
  Eigen::Vector3d hi = Eigen::Vector3d::Constant(-1e300);
  bool valid() const { return lo.x() <= hi.x(); }
  void add(const Eigen::Vector3d& p) {
    lo = lo.cwiseMin(p);
    hi = hi.cwiseMax(p);
  }
};

Bounds bounds(const Mesh& m);
double surface_area(const Mesh& m);  // mm^2
// Enclosed volume by the divergence theorem, mm^3; positive for a closed, outward-oriented mesh.
double signed_volume(const Mesh& m);
// Closed 2-manifold with consistent orientation: every directed edge appears once and its reverse once.
bool is_watertight(const Mesh& m);
// Per-vertex normals (area-weighted face normals), unit length (zero for isolated vertices).
std::vector<Eigen::Vector3f> vertex_normals(const Mesh& m);
// Throws InputError naming `where` for out-of-range indices or non-finite vertices.
void validate_mesh(const Mesh& m, const std::string& where);
// Drops vertices no triangle uses (indices remapped) and triangles with repeated vertices.
void compact(Mesh& m);

// Distance between two surfaces, mm, sampled at the vertices and triangle centroids of each mesh and measured to
// the nearest point of the other's triangles (exact point-triangle distance, a uniform grid finds candidates).
// hausdorff_mm = the largest sample distance either way; mean_mm = the mean over all samples of both meshes.
struct SurfaceDistance {
  double hausdorff_mm = 0, mean_mm = 0;
};
SurfaceDistance surface_distance(const Mesh& a, const Mesh& b);

// Primitive meshes (closed, outward): an icosphere-like UV sphere and an axis-aligned box.
Mesh make_sphere(const Eigen::Vector3d& centre, double radius, int rings = 12, int segments = 20);
Mesh make_box(const Eigen::Vector3d& centre, const Eigen::Vector3d& size);

}  // namespace xraylift::viz
