#include "xraylift/core/rig.hpp"

#include <algorithm>
#include <cmath>

namespace xraylift::core {
namespace {

constexpr double kPi = 3.14159265358979323846;

Eigen::Vector3d vec3(const Config& c, const std::string& key, const Eigen::Vector3d& fallback) {
  if (!c.has(key)) {
    c.get<std::string>(key, "");  // mark as read (null)
    return fallback;
  }
  const auto v = c.get<std::vector<double>>(key, {});
  if (v.size() != 3)
    throw ConfigError(cat("config key '", c.full_key(key), "' (from ", c.origin(key),
                          "): expected a list of 3 numbers, got ", v.size()));
  return {v[0], v[1], v[2]};
}

DetectorSpec detector_from(const Config& c, const DetectorSpec& d) {
  DetectorSpec out;
  out.width = c.get_in_range<int>("width", d.width, 1, kMaxDetectorPixels);
  out.height = c.get_in_range<int>("height", d.height, 1, kMaxDetectorPixels);
  out.pixel_size_mm = c.get_in_range<double>("pixel_size_mm", d.pixel_size_mm, 1e-3, 100.0);
  return out;
}

}  // namespace

Rig::Rig(std::vector<Camera> cameras) : cameras_(std::move(cameras)) {}

Rig Rig::with_detector_width(int pixels) const {
  XL_CHECK(pixels > 0, "rig: detector width ", pixels, " px, expected >= 1");
  std::vector<Camera> cams;
  for (const auto& cam : cameras_) {
    const double scale = double(pixels) / cam.width();
    Intrinsics k = cam.intrinsics();
    k.fx *= scale;
    k.fy *= scale;
    k.cx *= scale;
    k.cy *= scale;
    k.width = pixels;
    k.height = std::max(1, static_cast<int>(std::lround(cam.height() * scale)));
    cams.emplace_back(k, cam.rotation(), cam.translation(), cam.name());
  }
  return Rig(std::move(cams));
}

Eigen::Vector3d ring_source_position(const RingSpec& s, int view) {
  const double theta = (s.start_angle_deg + s.angle_step_deg * view) * kPi / 180.0;
  return s.isocenter_mm + s.sad_mm * Eigen::Vector3d(std::sin(theta), -std::cos(theta), 0.0);
}

Rig Rig::ring(const RingSpec& s) {
  XL_CHECK(s.views > 0, "ring rig: views = ", s.views, ", expected >= 1");
  XL_CHECK(std::isfinite(s.sad_mm) && s.sad_mm > 0, "ring rig: sad_mm = ", s.sad_mm, ", expected > 0");
  XL_CHECK(std::isfinite(s.sdd_mm) && s.sdd_mm > s.sad_mm, "ring rig: sdd_mm = ", s.sdd_mm, ", expected > sad_mm (",
           s.sad_mm, "): the detector sits behind the isocentre");
  XL_CHECK(std::isfinite(s.angle_step_deg) && std::isfinite(s.start_angle_deg), "ring rig: angles must be finite");
  XL_CHECK(s.isocenter_mm.allFinite(), "ring rig: isocenter_mm is not finite");
  const Intrinsics K = Intrinsics::detector(s.sdd_mm, s.detector.pixel_size_mm, s.detector.width, s.detector.height);
  std::vector<Camera> cams;
  cams.reserve(s.views);
  for (int i = 0; i < s.views; ++i) {
    cams.push_back(
        Camera::look_at(K, ring_source_position(s, i), s.isocenter_mm, Eigen::Vector3d::UnitZ(), cat("view", i)));
  }
  return Rig(std::move(cams));
}

Rig Rig::from_poses(const std::vector<PoseSpec>& poses) {
  XL_CHECK(!poses.empty(), "pose rig: no poses given");
  std::vector<Camera> cams;
  for (std::size_t i = 0; i < poses.size(); ++i) {
    const auto& p = poses[i];
    const Intrinsics K = Intrinsics::detector(p.sdd_mm, p.detector.pixel_size_mm, p.detector.width, p.detector.height);
    cams.push_back(Camera::look_at(K, p.source_mm, p.target_mm, p.up, p.name.empty() ? cat("view", i) : p.name));
  }
  return Rig(std::move(cams));
}

Rig Rig::from_config(const Config& c) {
  const std::string type = c.get<std::string>("type", "ring");
  if (type == "ring") {
    RingSpec s;
    s.views = c.get_in_range<int>("views", s.views, 1, kMaxRigViews);
    s.angle_step_deg = c.get<double>("angle_step_deg", s.angle_step_deg);
    s.start_angle_deg = c.get<double>("start_angle_deg", s.start_angle_deg);
    s.sad_mm = c.get<double>("sad_mm", s.sad_mm);
    s.sdd_mm = c.get<double>("sdd_mm", s.sdd_mm);
    s.detector = detector_from(c.section("detector"), s.detector);
    s.isocenter_mm = vec3(c, "isocenter_mm", s.isocenter_mm);
    return ring(s);
  }
  if (type == "poses") {
    const YAML::Node list = c.node("poses");
    if (!list || !list.IsSequence() || list.size() == 0 || list.size() > std::size_t(kMaxRigViews))
      throw ConfigError(cat("config key '", c.full_key("poses"), "' (from ", c.origin("poses"),
                            "): expected a list of 1 .. ", kMaxRigViews, " views for type 'poses'"));
    const double default_sdd = c.get<double>("sdd_mm", 600.0);
    const DetectorSpec default_det = detector_from(c.section("detector"), DetectorSpec{});
    std::vector<PoseSpec> poses;
    for (std::size_t i = 0; i < list.size(); ++i) {
      YAML::Emitter e;
      e << list[i];
      Config view = Config::from_yaml(e.c_str(), cat(c.origin("poses"), ": ", c.full_key("poses"), "[", i, "]"));
      PoseSpec p;
      p.name = view.get<std::string>("name", cat("view", i));
      p.source_mm = vec3(view, "source_mm", Eigen::Vector3d(NAN, NAN, NAN));
      XL_CHECK(p.source_mm.allFinite(), "config '", c.origin("poses"), "': ", c.full_key("poses"), "[", i,
               "].source_mm is missing or not finite");
      p.target_mm = vec3(view, "target_mm", p.target_mm);
      p.up = vec3(view, "up", p.up);
      p.sdd_mm = view.get<double>("sdd_mm", default_sdd);
      p.detector = detector_from(view.section("detector"), default_det);
      view.check_no_unknown_keys();
      poses.push_back(p);
    }
    return from_poses(poses);
  }
  throw ConfigError(cat("config key '", c.full_key("type"), "' (from ", c.origin("type"), "): '", type,
                        "' is not a rig type; expected 'ring' or 'poses'"));
}

}  // namespace xraylift::core
