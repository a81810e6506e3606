// The learned lung fields (drr/lung_field_net.hpp): the network's inputs against the rule's own maps, training on
// two rendered phantoms and the fields of a third (held out) against its projected lungs, the F16 file round trip,
// and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "drr_test_util.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/drr/lung_field_net.hpp"
#include "xraylift/drr/render.hpp"
#include "xraylift/drr/visual_hull.hpp"
#include "xraylift/testing/phantoms.hpp"

using namespace xraylift;
namespace fs = std::filesystem;

namespace {

struct RenderedCase {
  drr::ViewsLungs fit;
  std::vector<drr::Mask2D> labels;
  double truth_ml = 0;
};

// A small simple phantom (seed) rendered through the ring at 64 px: the rule's fit and the projected lung mask.
RenderedCase rendered(std::uint64_t seed) {
  const data::Phantom ph = xraylift::testing::make_phantom(seed, {96, 96, 64}, {3.6, 3.6, 5.0}, 0, 4, 8, false);
  const core::VolumeU8 lungs = drr::fixture::lung_mask(ph.labels);
  const core::Rig rig = drr::fixture::default_ring(64);
  const drr::DrrImages img = drr::render(ph.ct.hu, rig, drr::RenderOptions{});
  std::vector<std::vector<float>> views;
  for (int v = 0; v < img.views; ++v) views.emplace_back(img.view(v), img.view(v) + img.view_pixels());
  drr::VisualHullOptions ho;
  ho.voxel_mm = 6;
  RenderedCase c{drr::lungs_from_images(views, rig.cameras(), {}, ho),
                 drr::projected_lung_fields(lungs, rig.cameras())};
  c.fit.case_id = "phantom-" + std::to_string(seed);
  c.truth_ml = data::label_volume_ml(lungs, 1);
  return c;
}

drr::LungFieldNetSpec tiny_spec() {
  drr::LungFieldNetSpec s;
  s.channels = 4, s.levels = 3, s.input_px = 32;
  return s;
}

drr::LungFieldTrainOptions tiny_training(int iterations) {
  drr::LungFieldTrainOptions o;
  o.iterations = iterations, o.batch = 8, o.learning_rate = 1e-2, o.seed = 3, o.threads = 1;
  return o;
}

double mean_dice(const std::vector<drr::Mask2D>& a, const std::vector<drr::Mask2D>& b) {
  double d = 0;
  for (std::size_t v = 0; v < a.size(); ++v) d += drr::mask_dice(a[v], b[v]) / double(a.size());
  return d;
}

}  // namespace

// At the view's own size (no resampling) the channels are L / mu_water / 300 mm, T / 300 mm, the rule's relative
// deficit (T - L / mu_water) / T inside the body and 0 outside, and the body field; a label is the mask itself.
// Catches: the channels in another order, mu_water not applied, the deficit not relative, a transposed image.
TEST(LungFieldNet, InputsAreTheRulesPhysicalMaps) {
  const RenderedCase c = rendered(7);
  const int w = c.fit.cameras[2].width();
  const auto s = drr::lung_field_samples(c.fit, c.labels, w)[2];
  ASSERT_EQ(s.px, w);
  const std::size_t plane = std::size_t(w) * w;
  const double mu = c.fit.mu_water_per_mm;
  int inside = 0;
  for (int row = 0; row < w; ++row)
    for (int col = 0; col < w; col += 3) {
      const std::size_t p = std::size_t(row) * w + col;
      const double L = c.fit.line_integrals[2][p], T = c.fit.body_path_mm[2][p];
      EXPECT_NEAR(s.inputs[p], std::clamp(L / mu / 300, 0.0, 2.0), 1e-5);
      EXPECT_NEAR(s.inputs[plane + p], std::clamp(T / 300, 0.0, 2.0), 1e-5);
      const bool body = c.fit.body_fields[2].pixels[p];
      EXPECT_NEAR(s.inputs[2 * plane + p], body ? std::clamp((T - L / mu) / std::max(T, 10.0), -1.0, 1.0) : 0.0, 1e-5);
      EXPECT_EQ(s.inputs[3 * plane + p], body ? 1.0f : 0.0f);
      EXPECT_EQ(s.label[p], c.labels[2].pixels[p] ? 1.0f : 0.0f);
      inside += body;
    }
  EXPECT_GT(inside, 50);
  // Area resampling: at half the size a net pixel is the mean of its 2 x 2 view pixels.
  const auto half = drr::lung_field_inputs(c.fit, 2, w / 2);
  const auto& B = c.fit.body_fields[2].pixels;
  const int i = w / 4, j = w / 4 + 3;
  const double mean = (B[std::size_t(2 * i) * w + 2 * j] + B[std::size_t(2 * i) * w + 2 * j + 1] +
                       B[std::size_t(2 * i + 1) * w + 2 * j] + B[std::size_t(2 * i + 1) * w + 2 * j + 1]) /
                      4.0;
  EXPECT_NEAR(half.inputs[3 * std::size_t(w / 2) * (w / 2) + std::size_t(i) * (w / 2) + j], mean, 1e-6);
}

// Trained on two phantoms' views, the network's fields of a third phantom match its projected lungs better than
// the rule's (which is built for these phantoms' physics; 0.96 against 0.85 measured), and the hull carved from them
// is the hull of the silhouettes.
// Catches: labels misaligned with the inputs (the network learns a shifted field), the probability not resampled
// back to the view's pixels, the loss not descending, the body field not applied.
TEST(LungFieldNet, LearnsTheFieldsOfAHeldOutPhantom) {
  const RenderedCase a = rendered(7), b = rendered(8), held_out = rendered(9);
  auto samples = drr::lung_field_samples(a.fit, a.labels, 32);
  for (auto& s : drr::lung_field_samples(b.fit, b.labels, 32)) samples.push_back(std::move(s));
  drr::LungFieldTrainReport report;
  const drr::LungFieldNet net = drr::train_lung_field_net(samples, tiny_spec(), tiny_training(400), &report);
  ASSERT_GE(report.loss.size(), 2u);
  EXPECT_LT(report.loss.back(), 0.5 * report.loss.front()) << report.loss.front() << " -> " << report.loss.back();
  const auto fields = drr::net_lung_fields(net, held_out.fit);
  ASSERT_EQ(fields.size(), held_out.labels.size());
  const double net_dice = mean_dice(fields, held_out.labels),
               rule_dice = mean_dice(held_out.fit.fields, held_out.labels);
  EXPECT_GT(net_dice, 0.9) << "rule " << rule_dice;
  EXPECT_GT(net_dice, rule_dice) << "rule " << rule_dice;
  for (std::size_t v = 0; v < fields.size(); ++v)
    for (std::size_t p = 0; p < fields[v].pixels.size(); ++p)
      if (fields[v].pixels[p]) ASSERT_TRUE(held_out.fit.body_fields[v].pixels[p]) << "view " << v << " pixel " << p;
  drr::VisualHullOptions ho;
  ho.voxel_mm = 6;
  const drr::ViewsLungs refit = drr::with_net_lung_fields(net, held_out.fit, {}, ho);
  // The hull of fields that match the silhouettes is the hull of the silhouettes (9.8 L of this phantom's 6.1 L of
  // lung: a visual hull over-estimates; the rule's smaller fields carve 6.6 L, docs/viz.md "Lung model from the
  // views"), not the rule's: 10.9 L here, the fields being a little wider than the silhouettes).
  const double silhouette_ml = drr::carve_visual_hull(held_out.fit.cameras, held_out.labels, ho).total_ml();
  EXPECT_NEAR(refit.lungs.total_ml(), silhouette_ml, 0.2 * silhouette_ml) << "truth " << held_out.truth_ml << " mL";
  EXPECT_GT(refit.lungs.right_ml, 0);
  EXPECT_GT(refit.lungs.left_ml, 0);
}

// The file stores F16 tensors with the spec in its metadata; what loads predicts what was saved (to F16 rounding).
// Catches: a spec not restored (another U-Net shape), tensors in another order, the F16 conversion lost.
TEST(LungFieldNet, SavesAndLoadsItsF16File) {
  const RenderedCase c = rendered(7);
  const auto samples = drr::lung_field_samples(c.fit, c.labels, 32);
  const drr::LungFieldNet net = drr::train_lung_field_net(samples, tiny_spec(), tiny_training(20));
  const fs::path dir = fs::temp_directory_path() / "xraylift_test_lung_field_net";
  fs::create_directories(dir);
  net.save(dir / "net.safetensors", "test");
  EXPECT_LT(fs::file_size(dir / "net.safetensors"), std::uintmax_t(2 * net.parameters() + 4096));
  const drr::LungFieldNet back = drr::LungFieldNet::load(dir / "net.safetensors");
  EXPECT_EQ(back.spec().channels, 4);
  EXPECT_EQ(back.spec().input_px, 32);
  EXPECT_EQ(back.parameters(), net.parameters());
  const auto p0 = net.probability(samples[3]), p1 = back.probability(samples[3]);
  ASSERT_EQ(p0.size(), p1.size());
  double worst = 0;
  for (std::size_t i = 0; i < p0.size(); ++i) worst = std::max(worst, double(std::abs(p0[i] - p1[i])));
  EXPECT_LT(worst, 0.02);
  fs::remove_all(dir);
}

// Bad input: a missing file, another model's safetensors, a spec the metadata cannot hold, samples of another size,
// no samples, a fit without its line integrals. Catches: another model's weights loaded as the field network.
TEST(LungFieldNet, RejectsBadInput) {
  const fs::path dir = fs::temp_directory_path() / "xraylift_test_lung_field_net_bad";
  fs::create_directories(dir);
  EXPECT_THROW(drr::LungFieldNet::load(dir / "missing.safetensors"), core::InputError);
  const std::string head =
      R"({"__metadata__":{"format":"xraylift.lung_shape"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  std::string bytes(8, '\0');
  bytes[0] = char(head.size());
  bytes += head + std::string(4, '\0');
  std::ofstream(dir / "other.safetensors", std::ios::binary) << bytes;
  try {
    drr::LungFieldNet::load(dir / "other.safetensors");
    FAIL() << "expected InputError";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("other.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("xraylift.lung_field_net"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
  drr::LungFieldNetSpec odd = tiny_spec();
  odd.input_px = 30;  // not divisible by 4
  EXPECT_THROW(odd.validate(), core::ConfigError);
  EXPECT_THROW(drr::train_lung_field_net({}, tiny_spec(), tiny_training(1)), core::InputError);
  drr::LungFieldSample s;
  s.px = 16, s.inputs.assign(4 * 16 * 16, 0.f), s.label.assign(16 * 16, 0.f);
  EXPECT_THROW(drr::train_lung_field_net({s}, tiny_spec(), tiny_training(1)), core::InputError);
  drr::ViewsLungs empty;
  EXPECT_THROW(drr::lung_field_inputs(empty, 0, 32), core::InputError);
  drr::LungFieldTrainOptions bad = tiny_training(1);
  bad.learning_rate = -1;
  EXPECT_THROW(bad.validate(), core::ConfigError);
}
