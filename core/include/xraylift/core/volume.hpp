#pragma once
// A dense 3D image in the world frame (docs/ARCHITECTURE.md "Conventions"), defined once:
//   - storage: x fastest, then y, then z: linear index = i + nx * (j + ny * k).
//   - a voxel's value sits at its centre: world(i, j, k) = origin + direction * (spacing .* (i, j, k)).
//     `origin` is the world position of voxel (0, 0, 0)'s centre (no half-voxel shift).
//   - the voxel cells cover centre +- spacing/2; world_bounds() is the box rays are clipped against.
//   - after import, direction is the identity (index axes follow world x = L, y = P, z = S) and the volume is
//     centred: the midpoint between the first and last voxel centres is the world origin.
#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "xraylift/core/box.hpp"
#include "xraylift/core/error.hpp"

namespace xraylift::core {

struct VolumeGeometry {
  Eigen::Vector3i dims = Eigen::Vector3i::Zero();
  Eigen::Vector3d spacing = Eigen::Vector3d::Ones();  // mm
  Eigen::Vector3d origin = Eigen::Vector3d::Zero();   // world mm of voxel (0,0,0)'s centre
  Eigen::Matrix3d direction = Eigen::Matrix3d::Identity();

  // The geometry whose voxel-centre midpoint is the world origin.
  static VolumeGeometry centered(const Eigen::Vector3i& dims, const Eigen::Vector3d& spacing);
  std::int64_t voxel_count() const { return std::int64_t(dims.x()) * dims.y() * dims.z(); }
  Eigen::Vector3d index_to_world(const Eigen::Vector3d& ijk) const;
  Eigen::Vector3d world_to_index(const Eigen::Vector3d& p) const;  // continuous index
  Eigen::Vector3d center_world() const;                            // midpoint of first and last voxel centres
  Box3D world_bounds() const;                                      // voxel cells' extent (axis-aligned direction only)
  Eigen::Vector3d extent_mm() const { return spacing.cwiseProduct(dims.cast<double>()); }
  bool axis_aligned() const;
  // Throws InputError naming `where` for empty dims, non-positive/non-finite spacing or a bad direction.
  void validate(const std::string& where) const;
};

template <typename T>
class Volume {
 public:
  Volume() = default;
  explicit Volume(const VolumeGeometry& g, T fill = T{})
      : geom_(g), data_(static_cast<std::size_t>(g.voxel_count()), fill) {
    geom_.validate("volume");
  }

  const VolumeGeometry& geometry() const { return geom_; }
  VolumeGeometry& geometry() { return geom_; }
  const Eigen::Vector3i& dims() const { return geom_.dims; }
  const Eigen::Vector3d& spacing() const { return geom_.spacing; }
  std::int64_t size() const { return static_cast<std::int64_t>(data_.size()); }
  bool empty() const { return data_.empty(); }

  std::int64_t linear(int i, int j, int k) const {
    return i + std::int64_t(geom_.dims.x()) * (j + std::int64_t(geom_.dims.y()) * k);
  }
  T& at(int i, int j, int k) { return data_[static_cast<std::size_t>(linear(i, j, k))]; }
  const T& at(int i, int j, int k) const { return data_[static_cast<std::size_t>(linear(i, j, k))]; }
  bool in_bounds(int i, int j, int k) const {
    return i >= 0 && j >= 0 && k >= 0 && i < geom_.dims.x() && j < geom_.dims.y() && k < geom_.dims.z();
  }
  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  std::vector<T>& values() { return data_; }
  const std::vector<T>& values() const { return data_; }

  Eigen::Vector3d index_to_world(const Eigen::Vector3d& ijk) const { return geom_.index_to_world(ijk); }
  Eigen::Vector3d world_to_index(const Eigen::Vector3d& p) const { return geom_.world_to_index(p); }

  template <typename U>
  Volume<U> cast() const {
    Volume<U> out(geom_);
    for (std::size_t n = 0; n < data_.size(); ++n) out.values()[n] = static_cast<U>(data_[n]);
    return out;
  }

 private:
  VolumeGeometry geom_;
  std::vector<T> data_;
};

using VolumeF = Volume<float>;
using VolumeI16 = Volume<std::int16_t>;
using VolumeU8 = Volume<std::uint8_t>;

}  // namespace xraylift::core
