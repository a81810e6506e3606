#include "xraylift/viz/render.hpp"

#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "xraylift/core/camera.hpp"
#include "xraylift/core/error.hpp"

namespace xraylift::viz {

DisplayMode parse_display_mode(const std::string& s) {
  if (s == "both") return DisplayMode::kBoth;
  if (s == "lungs") return DisplayMode::kLungs;
  if (s == "nodules") return DisplayMode::kNodules;
  throw core::ConfigError(core::cat("display mode '", s, "': expected both, lungs or nodules"));
}

const char* to_string(DisplayMode m) {
  switch (m) {
    case DisplayMode::kBoth:
      return "both";
    case DisplayMode::kLungs:
      return "lungs";
    case DisplayMode::kNodules:
      return "nodules";
  }
  return "?";
}

SceneRenderer::SceneRenderer(const Scene& scene) : scene_(scene) {
  // Each nodule / attention sphere is its own layer (its own opacity); both lungs share one layer.
  Layer lungs;
  lungs.order = 2;
  for (int i = 0; i < int(scene.nodes.size()); ++i) {
    validate_mesh(scene.nodes[i].mesh, "render node " + scene.nodes[i].name);
    if (scene.nodes[i].kind == NodeKind::kLung) {
      lungs.nodes.push_back(i);
    } else {
      Layer l;
      l.nodes.push_back(i);
      l.order = scene.nodes[i].kind == NodeKind::kNodule ? 0 : 1;
      layers_.push_back(l);
    }
  }
  std::stable_sort(layers_.begin(), layers_.end(), [](const Layer& a, const Layer& b) { return a.order < b.order; });
  if (!lungs.nodes.empty()) layers_.push_back(lungs);
}

void SceneRenderer::render(cv::Mat& image, const ViewTransform& view, const RenderOptions& options) const {
  XL_CHECK(image.type() == CV_8UC3 && !image.empty(), "render: expected a non-empty 8-bit BGR image");
  for (const auto& layer : layers_) {
    const bool lung = layer.order == 2;
    if (options.mode == DisplayMode::kLungs && !lung) continue;
    if (options.mode == DisplayMode::kNodules && lung) continue;
    draw_layer(image, layer, view, options);
  }
}

void SceneRenderer::draw_layer(cv::Mat& image, const Layer& layer, const ViewTransform& view,
                               const RenderOptions& options) const {
  constexpr int kShift = 4;  // sub-pixel bits for fillConvexPoly
  constexpr double kScale = 1 << kShift;
  struct Tri {
    float depth;
    cv::Point p[3];
    cv::Scalar colour;
  };
  thread_local std::vector<Tri> tris;
  thread_local std::vector<cv::Point3f> cam_pts;
  thread_local std::vector<cv::Point2f> img_pts;
  tris.clear();
  const bool distorted = !view.dist.empty() && cv::countNonZero(view.dist) > 0;
  double alpha = 1.0;
  const Eigen::Matrix3d& A = view.A;
  for (int ni : layer.nodes) {
    const SceneNode& node = scene_.nodes[ni];
    alpha = node.kind == NodeKind::kLung && options.lung_opacity >= 0 ? options.lung_opacity : node.rgba[3];
    const auto& V = node.mesh.vertices;
    cam_pts.resize(V.size());
    for (std::size_t i = 0; i < V.size(); ++i) {
      const Eigen::Vector3d c = A * V[i].cast<double>() + view.t;
      cam_pts[i] = cv::Point3f(float(c.x()), float(c.y()), float(c.z()));
    }
    img_pts.resize(V.size());
    if (distorted) {
      cv::projectPoints(cam_pts, cv::Vec3d(0, 0, 0), cv::Vec3d(0, 0, 0), view.K, view.dist, img_pts);
    } else {
      const double fx = view.K(0, 0), fy = view.K(1, 1), cx = view.K(0, 2), cy = view.K(1, 2);
      for (std::size_t i = 0; i < V.size(); ++i) {
        const double z = std::max(1e-6f, cam_pts[i].z);
        img_pts[i] = cv::Point2f(float(fx * cam_pts[i].x / z + cx), float(fy * cam_pts[i].y / z + cy));
      }
    }
    const Eigen::Vector3d rgb(node.rgba[2] * 255.0, node.rgba[1] * 255.0, node.rgba[0] * 255.0);  // BGR
    for (const auto& t : node.mesh.triangles) {
      const cv::Point3f &a = cam_pts[t[0]], &b = cam_pts[t[1]], &c = cam_pts[t[2]];
      if (a.z <= 1e-3f || b.z <= 1e-3f || c.z <= 1e-3f) continue;
      const cv::Point2f &pa = img_pts[t[0]], &pb = img_pts[t[1]], &pc = img_pts[t[2]];
      // Screen-space winding: outward triangles facing the camera are clockwise in image coordinates (y down).
      const float cross = (pb.x - pa.x) * (pc.y - pa.y) - (pb.y - pa.y) * (pc.x - pa.x);
      if (cross >= 0) continue;  // back face or degenerate
      double shade = 1.0;
      if (options.shade) {
        const cv::Point3f n = (b - a).cross(c - a);
        const cv::Point3f centre = (a + b + c) * (1.f / 3.f);
        const double nn = cv::norm(n), cn = cv::norm(centre);
        shade = nn > 0 && cn > 0 ? 0.35 + 0.65 * std::abs(n.dot(centre)) / (nn * cn) : 1.0;
      }
      Tri tri;
      tri.depth = a.z + b.z + c.z;
      tri.p[0] = cv::Point(int(std::lround(pa.x * kScale)), int(std::lround(pa.y * kScale)));
      tri.p[1] = cv::Point(int(std::lround(pb.x * kScale)), int(std::lround(pb.y * kScale)));
      tri.p[2] = cv::Point(int(std::lround(pc.x * kScale)), int(std::lround(pc.y * kScale)));
      tri.colour = cv::Scalar(rgb.x() * shade, rgb.y() * shade, rgb.z() * shade);
      tris.push_back(tri);
    }
  }
  if (tris.empty()) return;
  std::sort(tris.begin(), tris.end(), [](const Tri& x, const Tri& y) { return x.depth > y.depth; });
  // Bounding rectangle of the layer on the image: blending touches only that.
  int x0 = image.cols, y0 = image.rows, x1 = 0, y1 = 0;
  for (const auto& t : tris)
    for (const auto& p : t.p) {
      x0 = std::min(x0, int(std::floor(p.x / kScale))), y0 = std::min(y0, int(std::floor(p.y / kScale)));
      x1 = std::max(x1, int(std::ceil(p.x / kScale)) + 1), y1 = std::max(y1, int(std::ceil(p.y / kScale)) + 1);
    }
  const cv::Rect roi = cv::Rect(x0, y0, x1 - x0, y1 - y0) & cv::Rect(0, 0, image.cols, image.rows);
  if (roi.empty()) return;
  const cv::Point offset(-roi.x * int(kScale), -roi.y * int(kScale));
  if (alpha >= 0.999) {
    cv::Mat target = image(roi);
    for (auto& t : tris) {
      for (auto& p : t.p) p += offset;
      cv::fillConvexPoly(target, t.p, 3, t.colour, cv::LINE_8, kShift);
    }
    return;
  }
  if (alpha <= 0.001) return;
  cv::Mat paint(roi.size(), CV_8UC3, cv::Scalar::all(0)), mask(roi.size(), CV_8U, cv::Scalar(0));
  for (auto& t : tris) {
    for (auto& p : t.p) p += offset;
    cv::fillConvexPoly(paint, t.p, 3, t.colour, cv::LINE_8, kShift);
    cv::fillConvexPoly(mask, t.p, 3, cv::Scalar(255), cv::LINE_8, kShift);
  }
  cv::Mat target = image(roi), blended;
  cv::addWeighted(target, 1.0 - alpha, paint, alpha, 0.0, blended);
  blended.copyTo(target, mask);
}

ViewTransform orbit_view(const Scene& scene, double azimuth_deg, cv::Size size, double elevation_deg) {
  XL_CHECK(size.width > 0 && size.height > 0, "orbit_view: image size ", size.width, "x", size.height, " must be > 0");
  const Bounds b = scene.bounds();
  XL_CHECK(b.valid(), "orbit_view: empty scene");
  const Eigen::Vector3d centre = 0.5 * (b.lo + b.hi);
  const double radius = 0.5 * (b.hi - b.lo).norm();
  const double f = 0.9 * std::min(size.width, size.height);
  // Distance so the bounding sphere (a loose bound of the lungs) about fills the smaller image side.
  const double dist = radius * f / (0.5 * std::min(size.width, size.height));
  const double az = azimuth_deg * M_PI / 180, el = elevation_deg * M_PI / 180;
  // Azimuth 0 looks from the front (anterior = -y), 90 from the patient's left (+x).
  const Eigen::Vector3d eye =
      centre + dist * Eigen::Vector3d(std::sin(az) * std::cos(el), -std::cos(az) * std::cos(el), std::sin(el));
  core::Intrinsics in;
  in.fx = in.fy = f;
  in.cx = 0.5 * size.width;
  in.cy = 0.5 * size.height;
  in.width = size.width;
  in.height = size.height;
  const core::Camera cam = core::Camera::look_at(in, eye, centre, Eigen::Vector3d::UnitZ());
  ViewTransform v;
  v.A = cam.rotation();
  v.t = cam.translation();
  v.K = cv::Matx33d(f, 0, in.cx, 0, f, in.cy, 0, 0, 1);
  return v;
}

}  // namespace xraylift::viz
