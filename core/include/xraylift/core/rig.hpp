#pragma once
// A rig is the set of X-ray views of one acquisition. The seed ring (docs/ARCHITECTURE.md "Conventions"): view i at
// theta_i = start + i * step around the world z axis through the isocentre; source_i = iso + SAD (sin, -cos, 0);
// view 0 is anterior-posterior (source at -y); image up is the patient's head (+z).
#include <Eigen/Core>
#include <string>
#include <vector>

#include "xraylift/core/camera.hpp"
#include "xraylift/core/config.hpp"

namespace xraylift::core {

struct DetectorSpec {
  int width = 1024;
  int height = 1024;
  double pixel_size_mm = 0.78125;
};

// Limits of a configured rig (Rig::from_config refuses more before any camera or image is allocated).
constexpr int kMaxRigViews = 720;         // a view every half degree
constexpr int kMaxDetectorPixels = 8192;  // per side; a 16k^2 float image is already 1 GiB per view

struct RingSpec {
  int views = 10;
  double angle_step_deg = 36.0;
  double start_angle_deg = 0.0;
  double sad_mm = 300.0;  // source to isocentre
  double sdd_mm = 600.0;  // source to detector
  DetectorSpec detector;
  Eigen::Vector3d isocenter_mm = Eigen::Vector3d::Zero();
};

// One view given by its pose (C-arms, frontal + lateral pairs): the source looks at target with image-up
// toward `up`, the detector `sdd_mm` behind the source.
struct PoseSpec {
  std::string name;
  Eigen::Vector3d source_mm;
  Eigen::Vector3d target_mm = Eigen::Vector3d::Zero();
  Eigen::Vector3d up = Eigen::Vector3d::UnitZ();
  double sdd_mm = 600.0;
  DetectorSpec detector;
};

class Rig {
 public:
  Rig() = default;
  explicit Rig(std::vector<Camera> cameras);

  static Rig ring(const RingSpec& spec);
  static Rig from_poses(const std::vector<PoseSpec>& poses);
  // Reads `type: ring` (RingSpec fields) or `type: poses` (a list) from a config section (usually "rig").
  static Rig from_config(const Config& rig_section);

  // The same rig with every detector resampled to `pixels` columns over the same field (rows scaled to keep the
  // pixels square): quick, small renders of any rig, poses included.
  Rig with_detector_width(int pixels) const;

  std::size_t size() const { return cameras_.size(); }
  bool empty() const { return cameras_.empty(); }
  const Camera& operator[](std::size_t i) const { return cameras_.at(i); }
  const std::vector<Camera>& cameras() const { return cameras_; }
  auto begin() const { return cameras_.begin(); }
  auto end() const { return cameras_.end(); }

 private:
  std::vector<Camera> cameras_;
};

Eigen::Vector3d ring_source_position(const RingSpec& spec, int view);

}  // namespace xraylift::core
