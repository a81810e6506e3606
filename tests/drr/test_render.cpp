// CPU renderer against analytic line integrals, brute force and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <ostream>

#include "drr_test_util.hpp"
#include "xraylift/core/device.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/projection.hpp"
#include "xraylift/drr/cuda_backend.hpp"
#include "xraylift/drr/render.hpp"

using namespace xraylift;
using namespace xraylift::drr;

namespace xraylift::drr {
// gtest prints a parameter's value with PrintTo (found by argument-dependent lookup).
inline void PrintTo(Device d, std::ostream* os) { *os << to_string(d); }
}  // namespace xraylift::drr
using xraylift::drr::fixture::chord_through_box;
using xraylift::drr::fixture::chord_through_sphere;

namespace {

RenderOptions with(Integrator integrator, double step = 0.5, Device device = Device::kCpu) {
  RenderOptions o;
  o.integrator = integrator;
  o.step_voxels = step;
  o.device = device;
  return o;
}

// The analytic tests run on both devices (docs/drr.md): the GPU gets references that do not depend on its CPU
// twin. Without a CUDA device the cuda instances skip.
class OnDevice : public ::testing::TestWithParam<Device> {
 protected:
  void SetUp() override {
    if (GetParam() == Device::kCuda && !cuda::available())
      GTEST_SKIP() << "no CUDA device here (" << core::cuda_description() << ")";
  }
  RenderOptions opts(Integrator integrator, double step = 0.5) const { return with(integrator, step, GetParam()); }
};
std::string device_name(const ::testing::TestParamInfo<Device>& info) { return to_string(info.param); }
class RenderAnalyticOnDevice : public OnDevice {};
class RenderShadowOnDevice : public OnDevice {};

struct Stats {
  int through = 0, missed = 0;
  double worst_rel = 0;
};

// Compares every pixel of every view to mu * chord(pixel ray) with the given tolerance.
Stats check_uniform_box(const core::VolumeF& volume, const core::Rig& rig, const RenderOptions& options, float mu,
                        double rel_tol) {
  const DrrImages img = render_attenuation(volume, rig, options);
  const core::Box3D b = volume.geometry().world_bounds();
  Stats s;
  for (int v = 0; v < img.views; ++v) {
    const core::Camera& cam = rig[v];
    for (int r = 0; r < img.height; ++r)
      for (int c = 0; c < img.width; ++c) {
        const core::Ray ray = cam.unproject(Eigen::Vector2d(c + 0.5, r + 0.5));
        const double ref = mu * chord_through_box(ray.origin, ray.direction, b.min(), b.max());
        const double got = img.view(v)[r * img.width + c];
        // Absolute slack: 0.1 um of chord (float camera parameters move grazing rays by about that much).
        EXPECT_LE(std::abs(got - ref), rel_tol * ref + mu * 1e-4) << "view " << v << " pixel " << c << "," << r;
        if (ref > 0) {
          ++s.through;
          s.worst_rel = std::max(s.worst_rel, std::abs(got - ref) / ref);
        } else {
          ++s.missed;
        }
      }
  }
  return s;
}

}  // namespace

TEST_P(RenderAnalyticOnDevice, UniformBoxSiddonIsMuTimesChordOnTheRing) {
  const float mu = 0.0213f;
  const core::VolumeF box = fixture::uniform_volume({37, 51, 29}, {2.0, 1.5, 2.5}, mu);
  const Stats s = check_uniform_box(box, fixture::small_ring(64), opts(Integrator::kSiddon), mu, 1e-4);
  EXPECT_GT(s.through, 5000);
  EXPECT_GT(s.missed, 5000);
  RecordProperty("worst_relative_error", std::to_string(s.worst_rel));
}

TEST_P(RenderAnalyticOnDevice, UniformBoxBothIntegratorsOnObliqueViews) {
  const float mu = 0.0192f;
  const core::VolumeF box = fixture::uniform_volume({40, 30, 50}, {1.25, 2.0, 1.0}, mu);
  const Stats a = check_uniform_box(box, fixture::oblique_rig(48), opts(Integrator::kSiddon), mu, 1e-4);
  // Trilinear: clamp-to-edge keeps a uniform volume uniform and the midpoint rule weights each step by its length,
  // so it is exact too (stated tolerance 1e-4 relative).
  const Stats b = check_uniform_box(box, fixture::oblique_rig(48), opts(Integrator::kTrilinear, 0.7), mu, 1e-4);
  EXPECT_GT(a.through, 500);
  EXPECT_GT(a.missed, 100);
  EXPECT_EQ(a.through, b.through);
}

TEST_P(RenderAnalyticOnDevice, UniformSphereChordsBothIntegrators) {
  // A partial-volume sphere (fraction of each 0.5 mm voxel inside, 4^3 supersampling at the surface).
  const float mu = 0.02f;
  const double r = 20.0, h = 0.5;
  const Eigen::Vector3d centre(2.0, -3.0, 1.5);
  core::VolumeF vol(core::VolumeGeometry::centered({110, 110, 110}, {h, h, h}), 0.0f);
  for (int k = 0; k < 110; ++k)
    for (int j = 0; j < 110; ++j)
      for (int i = 0; i < 110; ++i) {
        const Eigen::Vector3d p = vol.index_to_world(Eigen::Vector3d(i, j, k));
        const double dist = (p - centre).norm();
        if (dist < r - 0.9) {
          vol.at(i, j, k) = mu;
        } else if (dist < r + 0.9) {
          int inside = 0;
          for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 4; ++b)
              for (int c = 0; c < 4; ++c) {
                const Eigen::Vector3d q =
                    p + h * Eigen::Vector3d((a + 0.5) / 4 - 0.5, (b + 0.5) / 4 - 0.5, (c + 0.5) / 4 - 0.5);
                inside += (q - centre).norm() < r;
              }
          vol.at(i, j, k) = mu * inside / 64.0f;
        }
      }
  const core::Rig rig = fixture::small_ring(96, 300, 600, 5);
  const DrrImages sid = render_attenuation(vol, rig, opts(Integrator::kSiddon));
  const DrrImages tri = render_attenuation(vol, rig, opts(Integrator::kTrilinear, 0.5));
  int through = 0;
  for (int v = 0; v < sid.views; ++v)
    for (int p = 0; p < sid.height * sid.width; ++p) {
      const core::Ray ray = rig[v].unproject(Eigen::Vector2d(p % sid.width + 0.5, p / sid.width + 0.5));
      const double chord = chord_through_sphere(ray.origin, ray.direction, centre, r);
      const double miss = (ray.origin - centre).cross(ray.direction).norm() - r;  // distance beyond the surface
      // Stated tolerances: 1% of mu x chord for rays within 10 mm of the centre (chord > 34 mm); otherwise 2 mm of
      // chord: near-tangent rays cross many partial-volume surface voxels, which Siddon weights by intersection
      // length, not by the fraction of the voxel inside along the ray.
      const double tol = chord > 34.0 ? 0.01 * mu * chord : mu * 2.0;
      if (chord > 34.0) ++through;
      if (chord > 0.0) {
        EXPECT_NEAR(sid.view(v)[p], mu * chord, tol) << "siddon view " << v << " pixel " << p;
        EXPECT_NEAR(tri.view(v)[p], mu * chord, tol) << "trilinear view " << v << " pixel " << p;
      } else if (miss > 1.0) {
        EXPECT_EQ(sid.view(v)[p], 0.0f) << "siddon view " << v << " pixel " << p;
        EXPECT_EQ(tri.view(v)[p], 0.0f) << "trilinear view " << v << " pixel " << p;
      }
    }
  EXPECT_GT(through, 300);
}

TEST(RenderAnalytic, SiddonAndTrilinearAgreeOnSmoothVolume) {
  core::VolumeF vol(core::VolumeGeometry::centered({80, 70, 60}, {1.2, 1.2, 2.0}), 0.0f);
  for (int k = 0; k < 60; ++k)
    for (int j = 0; j < 70; ++j)
      for (int i = 0; i < 80; ++i) {
        const Eigen::Vector3d p = vol.index_to_world(Eigen::Vector3d(i, j, k));
        vol.at(i, j, k) = 0.02f * static_cast<float>(std::exp(-p.squaredNorm() / (2 * 18.0 * 18.0)));
      }
  const core::Rig rig = fixture::small_ring(64);
  const DrrImages sid = render_attenuation(vol, rig, with(Integrator::kSiddon));
  const DrrImages tri = render_attenuation(vol, rig, with(Integrator::kTrilinear, 0.5));
  float peak = 0;
  for (float x : sid.line_integral) peak = std::max(peak, x);
  ASSERT_GT(peak, 0.5f);
  for (std::size_t n = 0; n < sid.line_integral.size(); ++n) {
    if (sid.line_integral[n] < 0.1f * peak) continue;
    // Stated tolerance: 1% (nearest-voxel vs trilinear on a smooth field).
    EXPECT_NEAR(tri.line_integral[n], sid.line_integral[n], 0.01 * sid.line_integral[n]) << n;
  }
}

// half_texture: trilinear samples binary16-rounded mu (the CUDA half texture; the CPU twin rounds the same way).
// Every rounded voxel is within 2^-11 relative of its float value and mu >= 0, so each interpolated sample, and the
// line integral, stays within 2^-11 relative of the float render (stated tolerance, plus 1e-6 absolute).
TEST(Render, HalfTextureStaysWithinHalfPrecisionOfFloat) {
  core::VolumeF vol(core::VolumeGeometry::centered({60, 50, 40}, {1.2, 1.2, 2.0}), 0.0f);
  for (int k = 0; k < 40; ++k)
    for (int j = 0; j < 50; ++j)
      for (int i = 0; i < 60; ++i) vol.at(i, j, k) = 0.0192f * (1.0f + 0.37f * ((i * 7 + j * 3 + k) % 5));
  const core::Rig rig = fixture::small_ring(48);
  RenderOptions full = with(Integrator::kTrilinear, 0.5);
  RenderOptions half = full;
  half.half_texture = true;
  const DrrImages a = render_attenuation(vol, rig, full), b = render_attenuation(vol, rig, half);
  double worst = 0;
  int differ = 0;
  for (std::size_t n = 0; n < a.line_integral.size(); ++n) {
    const double diff = std::abs(double(b.line_integral[n]) - a.line_integral[n]);
    ASSERT_LE(diff, std::ldexp(1.0, -11) * a.line_integral[n] + 1e-6) << n;
    if (a.line_integral[n] > 0) worst = std::max(worst, diff / a.line_integral[n]);
    differ += diff > 0;
  }
  EXPECT_GT(differ, 100);  // the rounding is really applied
  std::printf("[half texture] worst relative difference to float %.3g\n", worst);
}

// step_mm (> 0) replaces step_voxels x the smallest spacing.
TEST(Render, StepInMillimetresOverridesStepInVoxels) {
  core::VolumeF vol(core::VolumeGeometry::centered({30, 30, 30}, {1.5, 2, 2}), 0.0f);
  for (std::int64_t n = 0; n < vol.size(); ++n) vol.values()[n] = 0.001f * static_cast<float>(n % 13);
  const core::Rig rig = fixture::small_ring(32);
  RenderOptions voxels = with(Integrator::kTrilinear, 0.8);
  RenderOptions mm = with(Integrator::kTrilinear, 0.1);
  mm.step_mm = 0.8 * 1.5;
  EXPECT_EQ(render_attenuation(vol, rig, voxels).line_integral, render_attenuation(vol, rig, mm).line_integral);
  mm.step_mm = 3.0;
  EXPECT_NE(render_attenuation(vol, rig, voxels).line_integral, render_attenuation(vol, rig, mm).line_integral);
}

TEST(Render, HounsfieldInputUsesMuWaterAndBone) {
  core::VolumeI16 hu(core::VolumeGeometry::centered({20, 20, 20}, {2, 2, 2}), std::int16_t(0));
  const core::Rig rig = fixture::small_ring(33, 300, 600, 2);  // odd: pixel 16's centre is the principal point
  const DrrImages water = render(hu, rig, with(Integrator::kSiddon));
  const int centre = 16 * 33 + 16;
  EXPECT_NEAR(water.view(0)[centre], 0.0192 * 40.0, 1e-4 * 0.0192 * 40);  // AP ray through the centre: 40 mm
  hu.values().assign(hu.values().size(), std::int16_t(1000));
  RenderOptions bone = with(Integrator::kSiddon);
  bone.bone = BoneModel::kLinear;
  EXPECT_NEAR(render(hu, rig, bone).view(0)[centre], 0.0573 * 40.0, 1e-4 * 0.0573 * 40);
}

TEST(Render, ThreadCountDoesNotChangeTheResult) {
  core::VolumeF vol(core::VolumeGeometry::centered({30, 30, 30}, {2, 2, 2}), 0.0f);
  for (std::int64_t n = 0; n < vol.size(); ++n) vol.values()[n] = 0.001f * static_cast<float>(n % 17);
  RenderOptions one = with(Integrator::kSiddon), two = one;
  one.threads = 1;
  two.threads = 3;
  const core::Rig rig = fixture::small_ring(40);
  EXPECT_EQ(render_attenuation(vol, rig, one).line_integral, render_attenuation(vol, rig, two).line_integral);
}

namespace {

struct PixelBox {
  int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;
  void add(int c, int r) {
    x0 = std::min(x0, c), y0 = std::min(y0, r), x1 = std::max(x1, c + 1), y1 = std::max(y1, r + 1);
  }
  bool empty() const { return x1 < 0; }
};

// Renders a soft-tissue block (+40 HU) with and without a +400 HU "nodule" made of the voxels where inside(p)
// holds; the nodule's truth box is the extent of those voxels' cells. Per view: the shadow's pixel box (pixels
// whose line integral changed) and the mask's pixel box, next to core's projected box.
struct ShadowResult {
  core::Rig rig;
  core::BoxRecord nodule;
  std::vector<PixelBox> shadow, mask;
};

template <typename Inside>
ShadowResult render_shadows(Inside&& inside, Device device) {
  const double h = 1.0;
  core::VolumeI16 hu(core::VolumeGeometry::centered({120, 120, 120}, {h, h, h}), std::int16_t(40));
  core::VolumeI16 with_nodule = hu;
  Eigen::Vector3d lo = Eigen::Vector3d::Constant(1e9), hi = -lo;
  for (int k = 0; k < 120; ++k)
    for (int j = 0; j < 120; ++j)
      for (int i = 0; i < 120; ++i) {
        const Eigen::Vector3d p = hu.index_to_world(Eigen::Vector3d(i, j, k));
        if (!inside(p)) continue;
        with_nodule.at(i, j, k) = 400;
        lo = lo.cwiseMin(p);
        hi = hi.cwiseMax(p);
      }
  ShadowResult out;
  out.nodule.id = "n1";
  out.nodule.box =
      core::Box3D::from_min_max(lo - Eigen::Vector3d::Constant(h / 2), hi + Eigen::Vector3d::Constant(h / 2));
  core::RingSpec spec;
  spec.detector.width = spec.detector.height = 512;
  spec.detector.pixel_size_mm = 1.5625;
  out.rig = core::Rig::ring(spec);
  RenderOptions options;
  options.mask = true;
  options.device = device;
  const DrrImages base = render(hu, out.rig, options, {out.nodule});
  const DrrImages shadow = render(with_nodule, out.rig, options, {out.nodule});
  for (int v = 0; v < shadow.views; ++v) {
    PixelBox s, m;
    for (int r = 0; r < shadow.height; ++r)
      for (int c = 0; c < shadow.width; ++c) {
        const std::size_t n = std::size_t(v) * shadow.view_pixels() + r * shadow.width + c;
        if (shadow.line_integral[n] != base.line_integral[n]) s.add(c, r);
        if (shadow.nodule_label[n] == 1) {
          EXPECT_GT(shadow.nodule_path_mm[n], 0.0f);
          m.add(c, r);
        } else {
          EXPECT_EQ(shadow.nodule_path_mm[n], 0.0f);
        }
      }
    out.shadow.push_back(s);
    out.mask.push_back(m);
  }
  return out;
}

void expect_close(const PixelBox& got, const core::Box2D& want, double tol, const std::string& what) {
  ASSERT_FALSE(got.empty()) << what << ": nothing";
  EXPECT_NEAR(got.x0, want.x0, tol) << what;
  EXPECT_NEAR(got.y0, want.y0, tol) << what;
  EXPECT_NEAR(got.x1, want.x1, tol) << what;
  EXPECT_NEAR(got.y1, want.y1, tol) << what;
}

}  // namespace

TEST_P(RenderShadowOnDevice, BoxNoduleShadowAndMaskMatchTheProjectedBox) {
  const Eigen::Vector3d centre(25, -15, 10);
  const ShadowResult r = render_shadows(
      [&](const Eigen::Vector3d& p) {
        const Eigen::Vector3d d = (p - centre).cwiseAbs();
        return d.x() <= 5 && d.y() <= 7 && d.z() <= 4;
      },
      GetParam());
  for (std::size_t v = 0; v < r.rig.size(); ++v) {
    const core::ProjectedBox pb = core::project_box(r.rig[v], r.nodule.box);
    ASSERT_TRUE(pb.visible);
    expect_close(r.shadow[v], pb.box, 2.0, "shadow view " + std::to_string(v));
    expect_close(r.mask[v], pb.box, 1.0, "mask view " + std::to_string(v));
  }
}

TEST_P(RenderShadowOnDevice, SphereNoduleShadowLiesInItsProjectedBox) {
  // The truth box of a sphere is its axis-aligned cell box: seen at 36 deg the box's corners project outside the
  // sphere's silhouette, so the shadow is contained in the projected box and fills it on the axis-aligned views.
  const Eigen::Vector3d centre(25, -15, 10);
  const ShadowResult r =
      render_shadows([&](const Eigen::Vector3d& p) { return (p - centre).norm() <= 6.0; }, GetParam());
  for (std::size_t v = 0; v < r.rig.size(); ++v) {
    const core::ProjectedBox pb = core::project_box(r.rig[v], r.nodule.box);
    const PixelBox& s = r.shadow[v];
    ASSERT_FALSE(s.empty());
    EXPECT_GE(s.x0, pb.box.x0 - 1.0) << v;
    EXPECT_GE(s.y0, pb.box.y0 - 1.0) << v;
    EXPECT_LE(s.x1, pb.box.x1 + 1.0) << v;
    EXPECT_LE(s.y1, pb.box.y1 + 1.0) << v;
    expect_close(r.mask[v], pb.box, 1.0, "mask view " + std::to_string(v));
    if (v == 0 || v == 5) expect_close(s, pb.box, 2.0, "shadow view " + std::to_string(v));
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, RenderAnalyticOnDevice, ::testing::Values(Device::kCpu, Device::kCuda), device_name);
INSTANTIATE_TEST_SUITE_P(Devices, RenderShadowOnDevice, ::testing::Values(Device::kCpu, Device::kCuda), device_name);

TEST(RenderBadInput, ClearErrorsNoCrash) {
  const core::Rig rig = fixture::small_ring(16);
  auto expect_error = [&](auto&& fn, const std::string& needle) {
    try {
      fn();
      ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
    } catch (const core::InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  const RenderOptions o;
  expect_error([&] { render(core::VolumeF(), rig, o); }, "empty");
  expect_error([&] { render(core::VolumeI16(), rig, o); }, "empty");

  core::VolumeF zero_spacing = fixture::uniform_volume({8, 8, 8}, {1, 1, 1}, 0.0f);
  zero_spacing.geometry().spacing.y() = 0.0;
  expect_error([&] { render(zero_spacing, rig, o); }, "spacing[1]");
  core::VolumeF nan_spacing = fixture::uniform_volume({8, 8, 8}, {1, 1, 1}, 0.0f);
  nan_spacing.geometry().spacing.z() = std::numeric_limits<double>::quiet_NaN();
  expect_error([&] { render(nan_spacing, rig, o); }, "spacing[2]");

  core::VolumeF nan_voxel = fixture::uniform_volume({8, 8, 8}, {1, 1, 1}, 0.0f);
  nan_voxel.at(3, 4, 5) = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { render(nan_voxel, rig, o); }, "not finite");

  // A 700 mm volume swallows the ring's sources (SAD 300 mm).
  const core::VolumeF huge = fixture::uniform_volume({70, 70, 10}, {10, 10, 10}, 0.0f);
  expect_error([&] { render(huge, rig, o); }, "inside the volume box");

  // A camera looking away from the volume sees nothing.
  core::PoseSpec away;
  away.name = "away";
  away.source_mm = {0, -300, 0};
  away.target_mm = {0, -600, 0};
  away.detector.width = away.detector.height = 16;
  const core::VolumeF small = fixture::uniform_volume({8, 8, 8}, {1, 1, 1}, 0.01f);
  expect_error([&] { render(small, core::Rig::from_poses({away}), o); }, "sees nothing");
  // A detector aimed beside the volume.
  core::PoseSpec beside = away;
  beside.target_mm = {200, 0, 0};
  expect_error([&] { render(small, core::Rig::from_poses({beside}), o); }, "sees nothing");

  expect_error([&] { render(small, core::Rig(), o); }, "no cameras");

  RenderOptions bad_step;
  bad_step.step_voxels = std::numeric_limits<double>::quiet_NaN();
  expect_error([&] { render(small, rig, bad_step); }, "step_voxels");
  RenderOptions bad_mu;
  bad_mu.mu_water_per_mm = -0.02;
  expect_error([&] { render(small, rig, bad_mu); }, "mu_water_per_mm");

  // Views of different sizes cannot share one image stack.
  core::PoseSpec a = away, b = away;
  a.target_mm = b.target_mm = {0, 0, 0};
  b.source_mm = {300, 0, 0};
  b.detector.width = 20;
  expect_error([&] { render(small, core::Rig::from_poses({a, b}), o); }, "share the image size");

  RenderOptions mask;
  mask.mask = true;
  core::BoxRecord bad_box;
  bad_box.box.size = {0, 1, 1};
  expect_error([&] { render(small, rig, mask, {bad_box}); }, "nodule 0");

  RenderOptions cuda;
  cuda.device = Device::kCuda;
  if (!cuda::available()) expect_error([&] { render(small, rig, cuda); }, "cuda");
}

TEST(Render, TransmissionAndPoissonNoise) {
  DrrImages img;
  img.views = 1;
  img.height = 100;
  img.width = 100;
  img.line_integral.assign(10000, 1.0f);
  const auto t = transmission(img);
  EXPECT_FLOAT_EQ(t[0], std::exp(-1.0f));
  const auto noisy = transmission(img, 1e4, 42);
  double mean = 0, var = 0;
  for (float x : noisy) mean += x;
  mean /= noisy.size();
  for (float x : noisy) var += (x - mean) * (x - mean);
  var /= noisy.size();
  EXPECT_NEAR(mean, std::exp(-1.0), 1e-3);
  EXPECT_NEAR(var, std::exp(-1.0) / 1e4, 0.1 * std::exp(-1.0) / 1e4);  // Poisson: variance = mean / photons
  EXPECT_EQ(noisy, transmission(img, 1e4, 42));                        // deterministic from the seed
  EXPECT_THROW(transmission(img, -1.0), core::InputError);
}
