// DRR lung-field spectrum (docs/data.md "Anatomy statistics"): power-law images of known slope, the lung field's
// path length through a cube.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "xraylift/core/error.hpp"
#include "xraylift/data/drr_spectrum.hpp"

using namespace xraylift;

namespace {

// A random-phase image whose power falls as f^-beta.
std::vector<float> power_law_image(int n, double beta, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> phase(0, 2 * 3.14159265358979323846);
  std::vector<std::complex<double>> a(std::size_t(n) * n);
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) {
      const int kx = x < n / 2 ? x : x - n, ky = y < n / 2 ? y : y - n;
      const double k = std::sqrt(double(kx * kx + ky * ky));
      a[y * std::size_t(n) + x] = k == 0 ? 0.0 : std::polar(std::pow(k, -beta / 2), phase(rng));
    }
  data::fft_2d(a, n, n, true);
  std::vector<float> img(a.size());
  for (std::size_t p = 0; p < a.size(); ++p) img[p] = float(a[p].real());
  return img;
}

}  // namespace

TEST(DrrSpectrum, PowerLawImagesGiveTheirSlope) {
  for (double beta : {2.0, 3.0, 4.0}) {
    const auto img = power_law_image(256, beta, 7);
    data::SpectrumOptions o;
    o.roi_px = 64;
    const auto ps = data::radial_power_spectrum(img, 256, 256, {}, o);
    EXPECT_NEAR(ps.beta, beta, 0.25) << "beta " << beta;
    EXPECT_EQ(ps.rois, 49);  // 64 px ROIs at a 32 px stride
  }
}

TEST(DrrSpectrum, OnlyRoisInsideTheFieldCount) {
  const auto img = power_law_image(256, 3.0, 11);
  std::vector<std::uint8_t> field(256 * 256, 0);
  for (int r = 0; r < 128; ++r)
    for (int c = 0; c < 128; ++c) field[r * 256 + c] = 1;
  const auto ps = data::radial_power_spectrum(img, 256, 256, field);  // default ROI: 256 / 8 = 32 px
  EXPECT_EQ(ps.rois, 49);
  EXPECT_NEAR(ps.beta, 3.0, 0.3);
  std::vector<std::uint8_t> tiny(256 * 256, 0);
  tiny[0] = 1;
  EXPECT_THROW(data::radial_power_spectrum(img, 256, 256, tiny), core::InputError);
}

TEST(DrrSpectrum, FftRoundTrip) {
  std::vector<std::complex<double>> a(8 * 4), b;
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = {double(i % 5), double(i % 3)};
  b = a;
  data::fft_2d(b, 8, 4);
  EXPECT_NEAR(
      b[0].real(),
      [&] {
        double s = 0;
        for (auto v : a) s += v.real();
        return s;
      }(),
      1e-9);
  data::fft_2d(b, 8, 4, true);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(std::abs(b[i] / 32.0 - a[i]), 0.0, 1e-9);
  EXPECT_THROW(data::fft_2d(b, 6, 4), core::InputError);
}

TEST(DrrSpectrum, LungPathLengthThroughACube) {
  // A 60 mm cube of lung at the isocentre seen from 1000 mm (detector at 1500 mm): its centre ray crosses 60 mm.
  core::VolumeU8 lungs(core::VolumeGeometry::centered({80, 80, 80}, {1, 1, 1}), 0);
  for (int k = 10; k < 70; ++k)
    for (int j = 10; j < 70; ++j)
      for (int i = 10; i < 70; ++i) lungs.at(i, j, k) = 1;
  const auto in = core::Intrinsics::detector(1500, 1.0, 128, 128);
  const auto cam = core::Camera::look_at(in, {0, -1000, 0}, {0, 0, 0});
  const auto path = data::lung_path_length_mm(lungs, cam);
  double centre = 0;
  for (int r = 56; r < 72; ++r)
    for (int c = 56; c < 72; ++c) centre += path[r * 128 + c] / 256.0;
  EXPECT_NEAR(centre, 60.0, 3.0);
  // Thick slices (3 mm voxels projecting onto 2 pixels) leave no empty pixel rows inside the cube's shadow.
  core::VolumeU8 slabs(core::VolumeGeometry::centered({80, 80, 20}, {1, 1, 3}), 1);
  const auto p2 = data::lung_path_length_mm(slabs, cam);
  for (int r = 44; r < 84; ++r) EXPECT_GT(p2[r * 128 + 64], 40.0f) << "row " << r;
  EXPECT_EQ(path[0], 0.0f);  // the corner ray misses the cube
}
