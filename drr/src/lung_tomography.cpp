#include "xraylift/drr/lung_tomography.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "xraylift/core/error.hpp"
#include "xraylift/core/parallel.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/core/voxel_projection.hpp"
#include "xraylift/drr/render.hpp"

namespace xraylift::drr {

void LungTomographyOptions::validate() const {
  auto check = [](bool ok, const std::string& what) {
    if (!ok) throw core::ConfigError("lung tomography: " + what);
  };
  check(iterations >= 0 && iterations <= 10000, core::cat("iterations ", iterations, ": expected 0 .. 10000"));
  check(std::isfinite(relaxation) && relaxation > 0 && relaxation <= 2,
        core::cat("relaxation ", relaxation, ": expected (0, 2]"));
  check(std::isfinite(threshold) && threshold > 0 && threshold < 1,
        core::cat("threshold ", threshold, ": expected (0, 1)"));
  check(std::isfinite(min_support_mm) && min_support_mm >= 0,
        core::cat("min_support_mm ", min_support_mm, ": expected >= 0"));
  check(std::isfinite(lung_deficit_per_mm) && lung_deficit_per_mm > 0 && lung_deficit_per_mm <= 1,
        core::cat("lung_deficit_per_mm ", lung_deficit_per_mm, ": expected (0, 1]"));
  check(threads >= 0, core::cat("threads ", threads, ": expected >= 0"));
}

std::vector<std::vector<float>> lung_path_estimate(const ViewsLungs& views, const LungTomographyOptions& o) {
  o.validate();
  XL_CHECK(views.line_integrals.size() == views.cameras.size() && views.body_path_mm.size() == views.cameras.size() &&
               views.fields.size() == views.cameras.size() && views.mu_water_per_mm > 0,
           "lung path estimate: a fit of ", views.cameras.size(), " views with ", views.line_integrals.size(),
           " line-integral images; expected a fit from lungs_from_images");
  std::vector<std::vector<float>> out;
  for (std::size_t v = 0; v < views.cameras.size(); ++v) {
    const auto& L = views.line_integrals[v];
    const auto& T = views.body_path_mm[v];
    const Mask2D& field = views.fields[v];
    XL_CHECK(L.size() == T.size() && field.pixels.size() == L.size(), "lung path estimate: view ", v, " sizes differ");
    std::vector<float> path(L.size(), 0.0f);
    for (std::size_t p = 0; p < L.size(); ++p)
      if (field.pixels[p])
        path[p] = float(std::max(0.0, (double(T[p]) - L[p] / views.mu_water_per_mm) / o.lung_deficit_per_mm));
    out.push_back(std::move(path));
  }
  return out;
}

LungTomography reconstruct_lungs(const std::vector<core::Camera>& cameras, const std::vector<std::vector<float>>& paths,
                                 const data::LungSegmentation& support, const LungTomographyOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  o.validate();
  XL_CHECK(!cameras.empty() && paths.size() == cameras.size(), "lung tomography: ", paths.size(), " path images for ",
           cameras.size(), " cameras; expected one per camera");
  for (std::size_t v = 0; v < cameras.size(); ++v)
    XL_CHECK(paths[v].size() == std::size_t(cameras[v].width()) * std::size_t(cameras[v].height()),
             "lung tomography: path image ", v, " has ", paths[v].size(), " pixels, camera ", cameras[v].name(), " is ",
             cameras[v].width(), " x ", cameras[v].height());
  XL_CHECK(!support.labels.empty(), "lung tomography: an empty support; expected the visual hull's lungs");
  const core::VolumeGeometry& g = support.labels.geometry();
  const auto& lab = support.labels.values();
  const std::int64_t n = g.voxel_count();
  std::vector<std::int64_t> inside;
  for (std::int64_t i = 0; i < n; ++i)
    if (lab[std::size_t(i)]) inside.push_back(i);
  XL_CHECK(!inside.empty(), "lung tomography: the support has no lung voxel");
  const core::Rig rig(cameras);
  RenderOptions ro;  // Siddon: exact path lengths through the voxels
  ro.threads = o.threads;
  core::VolumeF x(g, 0.0f);
  for (std::int64_t i : inside) x.values()[std::size_t(i)] = 1.0f;
  const DrrImages support_path = render_attenuation(x, rig, ro);
  // the pixel each support voxel projects to per view (-1: not seen); the support only, not the whole grid
  std::vector<Eigen::Matrix<double, 3, 4>> projection;
  for (const auto& c : cameras) projection.push_back(c.projection());
  std::vector<std::int64_t> pixel(inside.size() * cameras.size(), -1);
  core::parallel_for_chunks(
      0, std::int64_t(inside.size()), 4096,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t s = begin; s < end; ++s) {
          const Eigen::Vector3d x = core::voxel_centre(g, inside[std::size_t(s)]);
          for (std::size_t v = 0; v < cameras.size(); ++v) {
            const core::PixelProjection q = core::project_through(projection[v], x);
            if (!core::in_image(q, cameras[v].width(), cameras[v].height())) continue;
            const std::int64_t p = std::int64_t(std::floor(q.v)) * cameras[v].width() + std::int64_t(std::floor(q.u));
            if (support_path.view(int(v))[p] >= o.min_support_mm) pixel[std::size_t(s) * cameras.size() + v] = p;
          }
        }
      },
      o.threads);
  LungTomography out;
  std::vector<std::vector<float>> correction(cameras.size());
  for (int it = 0; it < o.iterations; ++it) {
    const DrrImages ax = render_attenuation(x, rig, ro);
    double residual = 0;
    std::int64_t rays = 0;
    for (std::size_t v = 0; v < cameras.size(); ++v) {
      correction[v].assign(paths[v].size(), 0.0f);
      const float* a = ax.view(int(v));
      const float* r = support_path.view(int(v));
      for (std::size_t p = 0; p < paths[v].size(); ++p) {
        if (r[p] < o.min_support_mm) continue;
        const double d = double(paths[v][p]) - a[p];
        correction[v][p] = float(d / r[p]);
        residual += std::abs(d), ++rays;
      }
    }
    out.residual_mm.push_back(rays ? residual / double(rays) : 0.0);
    core::parallel_for_chunks(
        0, std::int64_t(inside.size()), 4096,
        [&](std::int64_t begin, std::int64_t end) {
          for (std::int64_t s = begin; s < end; ++s) {
            double sum = 0;
            int seen = 0;
            for (std::size_t v = 0; v < cameras.size(); ++v) {
              const std::int64_t p = pixel[std::size_t(s) * cameras.size() + v];
              if (p < 0) continue;
              sum += correction[v][std::size_t(p)], ++seen;
            }
            if (!seen) continue;
            float& xj = x.values()[std::size_t(inside[std::size_t(s)])];
            xj = float(std::clamp(xj + o.relaxation * sum / seen, 0.0, 1.0));
          }
        },
        o.threads);
  }
  out.lungs.labels = core::VolumeU8(g, 0);
  for (std::int64_t i : inside)
    if (x.values()[std::size_t(i)] >= o.threshold) out.lungs.labels.values()[std::size_t(i)] = lab[std::size_t(i)];
  keep_largest_component(out.lungs.labels, data::kRightLung);
  keep_largest_component(out.lungs.labels, data::kLeftLung);
  out.lungs.right_ml = data::label_volume_ml(out.lungs.labels, data::kRightLung);
  out.lungs.left_ml = data::label_volume_ml(out.lungs.labels, data::kLeftLung);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace xraylift::drr
