#include "xraylift/drr/visual_hull.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "xraylift/core/error.hpp"
#include "xraylift/core/npy.hpp"
#include "xraylift/core/parallel.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/core/voxel_projection.hpp"
#include "xraylift/drr/render.hpp"

namespace fs = std::filesystem;

namespace xraylift::drr {

namespace {

void config_check(bool ok, const std::string& what) {
  if (!ok) throw core::ConfigError("visual hull: " + what);
}

}  // namespace

void keep_largest_component(core::VolumeU8& v, std::uint8_t label) {
  const Eigen::Vector3i d = v.dims();
  const std::int64_t nx = d.x(), ny = d.y(), nz = d.z(), n = nx * ny * nz;
  std::vector<std::int32_t> comp(std::size_t(n), 0);
  std::vector<std::int64_t> area(1, 0), stack;
  auto& val = v.values();
  for (std::int64_t s = 0; s < n; ++s) {
    if (val[s] != label || comp[s]) continue;
    const auto id = std::int32_t(area.size());
    area.push_back(0);
    comp[s] = id;
    stack.assign(1, s);
    while (!stack.empty()) {
      const std::int64_t p = stack.back();
      stack.pop_back();
      ++area[id];
      const std::int64_t i = p % nx, j = (p / nx) % ny, k = p / (nx * ny);
      const std::int64_t nb[6] = {i > 0 ? p - 1 : -1,       i + 1 < nx ? p + 1 : -1,  j > 0 ? p - nx : -1,
                                  j + 1 < ny ? p + nx : -1, k > 0 ? p - nx * ny : -1, k + 1 < nz ? p + nx * ny : -1};
      for (std::int64_t q : nb)
        if (q >= 0 && val[q] == label && !comp[q]) comp[q] = id, stack.push_back(q);
    }
  }
  if (area.size() <= 2) return;
  const auto best = std::int32_t(std::max_element(area.begin() + 1, area.end()) - area.begin());
  for (std::int64_t p = 0; p < n; ++p)
    if (val[p] == label && comp[p] != best) val[p] = data::kBackground;
}

void VisualHullOptions::validate(std::size_t views) const {
  config_check(std::isfinite(voxel_mm) && voxel_mm >= 0.5 && voxel_mm <= 50,
               core::cat("voxel_mm ", voxel_mm, ": expected 0.5 .. 50"));
  config_check(int(views) + (min_views > 0 ? 0 : min_views) >= 1 && (min_views <= 0 || std::size_t(min_views) <= views),
               core::cat("min_views ", min_views, ": expected ", 1 - int(views), " .. ", views, " for ", views,
                         " views (<= 0: all but that many)"));
  config_check(std::isfinite(midline_x_mm), core::cat("midline_x_mm ", midline_x_mm, ": expected finite"));
  config_check(max_voxels >= 1, core::cat("max_voxels ", max_voxels, ": expected >= 1"));
  if (!auto_box)
    config_check(box.size.allFinite() && box.center.allFinite() && (box.size.array() > 0).all(),
                 "box: expected a finite box of positive size");
}

core::Box3D scene_box_of_views(const std::vector<core::Camera>& cameras) {
  XL_CHECK(!cameras.empty(), "visual hull: no cameras; expected one per view");
  double half_xy = std::numeric_limits<double>::infinity(), half_z = half_xy;
  for (const auto& c : cameras) {
    const double d = c.source().norm();
    const auto& in = c.intrinsics();
    XL_CHECK(d > 0 && in.fx > 0 && in.fy > 0, "visual hull: camera ", c.name(), " has its source at the isocentre");
    half_xy = std::min(half_xy, 0.5 * in.width / in.fx * d);
    half_z = std::min(half_z, 0.5 * in.height / in.fy * d);
  }
  return core::Box3D{Eigen::Vector3d::Zero(), Eigen::Vector3d(2 * half_xy, 2 * half_xy, 2 * half_z)};
}

core::VolumeU8 carve_mask(const std::vector<core::Camera>& cameras, const std::vector<Mask2D>& fields,
                          const VisualHullOptions& o) {
  XL_CHECK(!cameras.empty(), "visual hull: no cameras; expected one per view");
  XL_CHECK(fields.size() == cameras.size(), "visual hull: ", fields.size(), " lung fields for ", cameras.size(),
           " cameras; expected one per camera");
  for (std::size_t v = 0; v < cameras.size(); ++v)
    XL_CHECK(fields[v].width == cameras[v].width() && fields[v].height == cameras[v].height() &&
                 fields[v].pixels.size() == std::size_t(fields[v].width) * std::size_t(fields[v].height),
             "visual hull: lung field ", v, " is ", fields[v].width, " x ", fields[v].height, ", camera ",
             cameras[v].name(), " is ", cameras[v].width(), " x ", cameras[v].height());
  o.validate(cameras.size());
  const core::Box3D box = o.auto_box ? scene_box_of_views(cameras) : o.box;
  core::VolumeGeometry g;
  for (int a = 0; a < 3; ++a) g.dims[a] = std::max(1, int(std::ceil(box.size[a] / o.voxel_mm)));
  g.spacing = Eigen::Vector3d::Constant(o.voxel_mm);
  if (g.voxel_count() > o.max_voxels)
    throw core::ConfigError(core::cat("visual hull: a grid of ", g.dims.x(), " x ", g.dims.y(), " x ", g.dims.z(),
                                      " voxels (", o.voxel_mm, " mm over a box of ", box.size.transpose(),
                                      " mm) is over max_voxels ", o.max_voxels, "; expected a larger voxel_mm"));
  g.origin = box.min() + 0.5 * g.spacing;
  const int need = o.needed_views(cameras.size());
  std::vector<Eigen::Matrix<double, 3, 4>> p;
  for (const auto& c : cameras) p.push_back(c.projection());
  core::VolumeU8 mask(g, 0);
  auto& val = mask.values();
  core::parallel_for_chunks(
      0, g.voxel_count(), 4096,
      [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) {
          const Eigen::Vector3d x = core::voxel_centre(g, i);
          int inside = 0;
          for (std::size_t v = 0; v < p.size() && inside + int(p.size() - v) >= need; ++v) {
            const core::PixelProjection q = core::project_through(p[v], x);
            if (!core::in_image(q, fields[v].width, fields[v].height)) continue;
            inside += fields[v].at(int(q.u), int(q.v)) != 0;
          }
          if (inside >= need) val[i] = 1;
        }
      },
      o.threads);
  return mask;
}

data::LungSegmentation carve_visual_hull(const std::vector<core::Camera>& cameras, const std::vector<Mask2D>& fields,
                                         const VisualHullOptions& o) {
  data::LungSegmentation seg;
  seg.labels = carve_mask(cameras, fields, o);
  const core::VolumeGeometry& g = seg.labels.geometry();
  for (std::int64_t i = 0; i < g.voxel_count(); ++i)
    if (seg.labels.values()[i])
      seg.labels.values()[i] = core::voxel_centre(g, i).x() < o.midline_x_mm ? data::kRightLung : data::kLeftLung;
  const int need = o.needed_views(cameras.size());
  keep_largest_component(seg.labels, data::kRightLung);
  keep_largest_component(seg.labels, data::kLeftLung);
  seg.right_ml = data::label_volume_ml(seg.labels, data::kRightLung);
  seg.left_ml = data::label_volume_ml(seg.labels, data::kLeftLung);
  XL_CHECK(seg.right_ml + seg.left_ml > 0, "visual hull: no voxel lies in the lung field of ", need, " of the ",
           cameras.size(), " views; expected lung fields that overlap in space");
  return seg;
}

ViewsLungs lungs_from_images(const std::vector<std::vector<float>>& images, const std::vector<core::Camera>& cameras,
                             const LungFieldOptions& fo, const VisualHullOptions& ho) {
  const auto t0 = std::chrono::steady_clock::now();
  XL_CHECK(!cameras.empty(), "lungs from views: no cameras; expected one per view");
  XL_CHECK(images.size() == cameras.size(), "lungs from views: ", images.size(), " images for ", cameras.size(),
           " cameras; expected one per camera");
  fo.validate();
  ho.validate(cameras.size());
  ViewsLungs out;
  out.cameras = cameras;
  for (std::size_t v = 0; v < images.size(); ++v) {
    XL_CHECK(images[v].size() == std::size_t(cameras[v].width()) * std::size_t(cameras[v].height()),
             "lungs from views: image ", v, " has ", images[v].size(), " pixels, camera ", cameras[v].name(), " is ",
             cameras[v].width(), " x ", cameras[v].height());
    out.body_fields.push_back(body_field(images[v].data(), cameras[v].width(), cameras[v].height(), fo));
  }
  VisualHullOptions body_options = ho;
  body_options.min_views = 0;  // the body is seen whole by every view
  out.body = carve_mask(out.cameras, out.body_fields, body_options);
  core::VolumeF path(out.body.geometry(), 0.0f);
  for (std::size_t p = 0; p < path.values().size(); ++p) path.values()[p] = out.body.values()[p] ? 1.0f : 0.0f;
  RenderOptions ro;
  ro.threads = ho.threads;
  const DrrImages t = render_attenuation(path, core::Rig(out.cameras), ro);  // mm of body along each ray
  out.mu_water_per_mm = fo.mu_water_per_mm;
  for (std::size_t v = 0; v < images.size(); ++v) {
    out.fields.push_back(lung_field(images[v].data(), out.body_fields[v], t.view(int(v)), fo));
    out.line_integrals.push_back(images[v]);
    out.body_path_mm.emplace_back(t.view(int(v)), t.view(int(v)) + t.view_pixels());
  }
  out.lungs = carve_visual_hull(out.cameras, out.fields, ho);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

ViewsLungs lungs_from_views(const fs::path& infos, const LungFieldOptions& field_options, const VisualHullOptions& ho) {
  const auto t0 = std::chrono::steady_clock::now();
  const core::ViewSet set = core::read_view_set(infos);
  XL_CHECK(!set.views.empty(), "lungs from views: ", infos.string(), " has no views (cameras); expected one per image");
  LungFieldOptions fo = field_options;
  if (set.render.contains("mu_water_per_mm") && set.render["mu_water_per_mm"].is_number())
    fo.mu_water_per_mm = set.render["mu_water_per_mm"].get<double>();
  std::vector<std::vector<float>> images;
  std::vector<core::Camera> cameras;
  for (const auto& v : set.views) {
    XL_CHECK(!v.line_integral_path.empty(), "lungs from views: ", infos.string(), ": view ", v.camera.name(),
             " has no line_integral_path; expected the view's line integrals (.npy)");
    fs::path li = v.line_integral_path;
    if (li.is_relative()) li = infos.parent_path() / li;
    images.push_back(core::read_line_integrals(li, v.camera.height(), v.camera.width()).data);
    cameras.push_back(v.camera);
  }
  ViewsLungs out = lungs_from_images(images, cameras, fo, ho);
  out.case_id = set.case_id;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace xraylift::drr
