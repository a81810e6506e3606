#pragma once
// A CPU scene renderer for overlays and turntables: painter's order (triangles sorted far to near, back faces
// culled), flat Lambert-like shading by the face's angle to the view ray, and per-layer alpha blending over the
// image: opaque nodules first, then attention spheres, then the translucent lung shell (which contains them).
// No GL context needed, so it runs headless and on any laptop.
#include <Eigen/Core>
#include <opencv2/core.hpp>

#include "xraylift/viz/scene.hpp"

namespace xraylift::viz {

enum class DisplayMode { kBoth, kLungs, kNodules };    // kNodules shows nodules and attention spheres
DisplayMode parse_display_mode(const std::string& s);  // "both" | "lungs" | "nodules"; ConfigError otherwise
const char* to_string(DisplayMode m);

// World (LPS mm) -> camera: p_cam = A p + t (A may carry a uniform scale), then the OpenCV pinhole K with
// optional distortion coefficients.
struct ViewTransform {
  Eigen::Matrix3d A = Eigen::Matrix3d::Identity();
  Eigen::Vector3d t = Eigen::Vector3d::Zero();
  cv::Matx33d K = cv::Matx33d::eye();
  cv::Mat dist;  // empty = none
};

struct RenderOptions {
  DisplayMode mode = DisplayMode::kBoth;
  double lung_opacity = -1;  // < 0: the lung nodes' own alpha
  bool shade = true;
};

class SceneRenderer {
 public:
  explicit SceneRenderer(const Scene& scene);
  // Draws over `image` (8-bit BGR) in place.
  void render(cv::Mat& image, const ViewTransform& view, const RenderOptions& options) const;
  const Scene& scene() const { return scene_; }

 private:
  struct Layer {
    std::vector<int> nodes;
    int order = 0;  // 0 nodules, 1 attention, 2 lungs
  };
  void draw_layer(cv::Mat& image, const Layer& layer, const ViewTransform& view, const RenderOptions& options) const;

  const Scene& scene_;
  std::vector<Layer> layers_;
};

// A camera orbiting the scene's centre about the world superior axis (+z), at `azimuth_deg` (0 = from the
// front, i.e. anterior, 90 = from the patient's left), looking slightly down, framing the whole scene.
ViewTransform orbit_view(const Scene& scene, double azimuth_deg, cv::Size image_size, double elevation_deg = 10);

}  // namespace xraylift::viz
