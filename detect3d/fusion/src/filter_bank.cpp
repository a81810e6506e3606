// The fixed per-view encoder of fusion (`encoder.type: log_bank`, docs/detect3d.md "fusion"): scale-normalised
// Laplacian-of-Gaussian responses at nodule scales. With a known-size linear filter a nodule's signal-to-clutter
// ratio is about 1 in one view and 2.4-4 after averaging the ten views at its 3D position (measured, docs/detect3d.md
// "fusion"); these maps are what the 3D network then tells from vessels.
#include <cmath>

#include "xraylift/core/error.hpp"
#include "xraylift/detect3d/fusion/model.hpp"

namespace xraylift::detect3d::fusion {
namespace {

// The kernel's half width: 3 sigma holds 99.7 % of a Gaussian's mass.
std::int64_t half_width(double sigma_px) { return std::max<std::int64_t>(1, std::llround(std::ceil(3.0 * sigma_px))); }

torch::Tensor radius_squared(double sigma_px) {
  const std::int64_t r = half_width(sigma_px);
  const auto x = torch::arange(-r, r + 1, torch::kFloat64);
  return x.view({-1, 1}).square() + x.view({1, -1}).square();
}

}  // namespace

std::vector<std::vector<double>> bank_sigmas_px(const std::vector<core::Camera>& cameras,
                                                const std::vector<double>& diameters_mm,
                                                const Eigen::Vector3d& centre_mm) {
  XL_CHECK(!cameras.empty(), "fusion filter bank: no cameras");
  std::vector<std::vector<double>> sigmas;
  for (const auto& camera : cameras) {
    const double depth = camera.depth(centre_mm);
    XL_CHECK(depth > 0, "fusion filter bank: the scene centre (", centre_mm.transpose(), " mm) is behind view '",
             camera.name(), "' (depth ", depth, " mm)");
    // A length d at depth z spans d fx / z pixels (pinhole magnification, core/camera.hpp).
    const double px_per_mm = camera.K()(0, 0) / depth;
    std::vector<double> s;
    for (double d : diameters_mm) s.push_back(std::max(0.5, d / (2.0 * std::sqrt(2.0)) * px_per_mm));
    sigmas.push_back(s);
  }
  return sigmas;
}

torch::Tensor log_kernel(double sigma_px) {
  XL_CHECK(sigma_px > 0 && std::isfinite(sigma_px), "fusion filter bank: sigma ", sigma_px, " px; expected > 0");
  const auto r2 = radius_squared(sigma_px);
  const double s2 = sigma_px * sigma_px;
  // -sigma^2 LoG of a unit Gaussian: G (2 - r^2 / sigma^2) / sigma^2 ... times sigma^2, i.e. G (2 - r^2 / sigma^2);
  // a disk of diameter 2 sqrt 2 sigma gives the largest response across scales (Lindeberg's scale selection).
  auto g = torch::exp(-r2 / (2.0 * s2)) / (2.0 * M_PI * s2);
  auto k = g * (2.0 - r2 / s2);
  // Truncation leaves a small DC term: a flat image must give zero.
  k = k - k.mean();
  return k.to(torch::kFloat32);
}

torch::Tensor gaussian_kernel(double sigma_px) {
  XL_CHECK(sigma_px > 0 && std::isfinite(sigma_px), "fusion filter bank: sigma ", sigma_px, " px; expected > 0");
  const auto r2 = radius_squared(sigma_px);
  auto g = torch::exp(-r2 / (2.0 * sigma_px * sigma_px));
  return (g / g.sum()).to(torch::kFloat32);
}

torch::Tensor filter_bank(const torch::Tensor& images, const std::vector<core::Camera>& cameras,
                          const FusionConfig& config) {
  XL_CHECK(images.defined() && images.dim() == 4 && images.size(1) == 1 &&
               images.size(0) == static_cast<std::int64_t>(cameras.size()),
           "fusion filter bank: images must be [V, 1, H, W] for ", cameras.size(), " cameras, got ",
           images.defined() ? images.sizes() : torch::IntArrayRef{});
  namespace F = torch::nn::functional;
  const Eigen::Vector3d centre = 0.5 * (config.scene.min_mm + config.scene.max_mm);
  const auto sigmas = bank_sigmas_px(cameras, config.bank_diameters_mm, centre);
  const auto x = images.to(torch::kFloat32);
  std::vector<torch::Tensor> views;
  for (std::size_t v = 0; v < cameras.size(); ++v) {
    const auto image = x.narrow(0, static_cast<std::int64_t>(v), 1);
    auto filtered = [&](const torch::Tensor& kernel) {
      const std::int64_t r = kernel.size(0) / 2;
      // Replicated borders: a zero border would answer the detector edge as a blob.
      const auto padded = F::pad(image, F::PadFuncOptions({r, r, r, r}).mode(torch::kReplicate));
      return F::conv2d(padded, kernel.to(image.device()).view({1, 1, kernel.size(0), kernel.size(1)}));
    };
    std::vector<torch::Tensor> channels;
    for (double s : sigmas[v]) {
      auto response = filtered(log_kernel(s));
      // Views differ in exposure and anatomy: the response in units of its own spread over the view makes the
      // ten views' values comparable before they are averaged.
      response = response / response.std().clamp_min(1e-6);
      channels.push_back(response);
    }
    if (config.bank_intensity) {
      auto smooth = filtered(gaussian_kernel(sigmas[v].front()));
      channels.push_back((smooth - smooth.mean()) / smooth.std().clamp_min(1e-6));
    }
    views.push_back(torch::cat(channels, 1));
  }
  return torch::cat(views, 0);
}

}  // namespace xraylift::detect3d::fusion
