#include "xraylift/eval/coco2d.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "xraylift/core/error.hpp"

using namespace xraylift;
using eval::Detection2D;
using eval::GroundTruth2D;

namespace {

core::Box2D box(double x0, double y0, double x1, double y1) { return core::Box2D{x0, y0, x1, y1}; }

// Straightforward re-implementation: interpolated precision at r = max precision over ranks with recall >= r.
struct Reference {
  std::vector<double> ap, recall;
};

Reference brute_force(const std::vector<GroundTruth2D>& gts, const std::vector<Detection2D>& dets,
                      const std::vector<double>& thresholds, int max_det) {
  Reference out;
  std::map<std::string, std::vector<int>> det_by_image;
  for (int i = 0; i < static_cast<int>(dets.size()); ++i) det_by_image[dets[i].image_id].push_back(i);
  int npos = 0;
  for (const auto& g : gts) npos += g.ignore ? 0 : 1;
  for (double t : thresholds) {
    std::vector<std::pair<double, int>> ranked;  // (score, 1 TP / 0 FP), in image order
    for (auto& [image, ids] : det_by_image) {
      std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) { return dets[a].score > dets[b].score; });
      if (static_cast<int>(ids.size()) > max_det) ids.resize(max_det);
      std::vector<bool> taken(gts.size(), false);
      for (int d : ids) {
        int best = -1;
        double best_iou = -1;
        for (std::size_t g = 0; g < gts.size(); ++g) {
          if (gts[g].image_id != image || gts[g].ignore || taken[g]) continue;
          const double v = core::iou(dets[d].box, gts[g].box);
          if (v >= t && v > best_iou) best = static_cast<int>(g), best_iou = v;
        }
        if (best >= 0) {
          taken[best] = true;
          ranked.push_back({dets[d].score, 1});
          continue;
        }
        bool on_ignore = false;
        for (const auto& g : gts) {
          if (g.image_id != image || !g.ignore) continue;
          const double iof = core::intersection(dets[d].box, g.box).area() / dets[d].box.area();
          on_ignore = on_ignore || iof >= t;
        }
        if (!on_ignore) ranked.push_back({dets[d].score, 0});
      }
    }
    std::stable_sort(ranked.begin(), ranked.end(), [](auto& a, auto& b) { return a.first > b.first; });
    std::vector<double> rec, prec;
    int tp = 0;
    for (std::size_t k = 0; k < ranked.size(); ++k) {
      tp += ranked[k].second;
      rec.push_back(double(tp) / npos);
      prec.push_back(double(tp) / (k + 1));
    }
    double sum = 0;
    for (int i = 0; i <= 100; ++i) {
      const double r = i * 0.01;
      double p = 0;
      for (std::size_t k = 0; k < rec.size(); ++k)
        if (rec[k] >= r) p = std::max(p, prec[k]);
      sum += p;
    }
    out.ap.push_back(sum / 101);
    out.recall.push_back(rec.empty() ? 0 : rec.back());
  }
  return out;
}

std::vector<GroundTruth2D> two_truths() { return {{"a", box(0, 0, 10, 10), false}, {"a", box(20, 20, 30, 30), false}}; }

}  // namespace

TEST(Coco2D, HandComputedDuplicateIsFalsePositive) {
  // Ranked: TP (p 1, r .5), duplicate FP (p .5), TP (p 2/3, r 1). Envelope: 1 up to r = .5 (51 points),
  // 2/3 beyond (50 points).
  const std::vector<Detection2D> dets = {
      {"a", box(0, 0, 10, 10), 0.9}, {"a", box(0, 0, 10, 10), 0.8}, {"a", box(20, 20, 30, 30), 0.7}};
  const auto r = eval::evaluate_coco2d(two_truths(), dets);
  const double expected = (51 * 1.0 + 50 * (2.0 / 3.0)) / 101;
  EXPECT_NEAR(r.ap50, expected, 1e-12);
  EXPECT_NEAR(r.ap75, expected, 1e-12);
  EXPECT_NEAR(r.ap50_95, expected, 1e-12);
  EXPECT_DOUBLE_EQ(r.ar100, 1.0);
  EXPECT_EQ(r.num_truths, 2);
  EXPECT_EQ(r.num_detections, 3);
  ASSERT_EQ(r.precision_at_recall_50.size(), 101u);
  EXPECT_DOUBLE_EQ(r.precision_at_recall_50[50], 1.0);
  EXPECT_NEAR(r.precision_at_recall_50[51], 2.0 / 3.0, 1e-12);
}

TEST(Coco2D, PerfectIsOneAndIouThresholdsSeparate) {
  const std::vector<Detection2D> perfect = {{"a", box(0, 0, 10, 10), 0.9}, {"a", box(20, 20, 30, 30), 0.7}};
  EXPECT_DOUBLE_EQ(eval::evaluate_coco2d(two_truths(), perfect).ap50_95, 1.0);
  // IoU of [0,0,10,10] with [0,0,10,12] is 100/120 = 0.833: a hit at 0.5..0.8, a miss at 0.85..0.95.
  const std::vector<Detection2D> loose = {{"a", box(0, 0, 10, 12), 0.9}, {"a", box(20, 20, 30, 30), 0.7}};
  const auto r = eval::evaluate_coco2d(two_truths(), loose);
  ASSERT_EQ(r.ap_per_iou.size(), 10u);
  for (int i = 0; i < 7; ++i) EXPECT_DOUBLE_EQ(r.ap_per_iou[i], 1.0) << i;
  // FP first then TP: precision .5 at recall .5 -> 51 points of .5.
  for (int i = 7; i < 10; ++i) EXPECT_NEAR(r.ap_per_iou[i], 51 * 0.5 / 101, 1e-12) << i;
}

TEST(Coco2D, IgnoreTruthChangesNothing) {
  auto truths = two_truths();
  const std::vector<Detection2D> dets = {
      {"a", box(0, 0, 10, 10), 0.9}, {"a", box(0, 0, 10, 10), 0.8}, {"a", box(20, 20, 30, 30), 0.7}};
  const auto base = eval::evaluate_coco2d(truths, dets);
  truths.push_back({"b", box(50, 50, 60, 60), true});
  auto with_hits = dets;
  with_hits.push_back({"b", box(52, 52, 58, 58), 0.95});  // inside the ignore region (crowd: IoF = 1)
  with_hits.push_back({"b", box(51, 51, 59, 59), 0.85});  // a crowd region absorbs any number
  const auto r = eval::evaluate_coco2d(truths, with_hits);
  EXPECT_DOUBLE_EQ(r.ap50_95, base.ap50_95);
  EXPECT_DOUBLE_EQ(r.ar100, base.ar100);
  EXPECT_EQ(r.num_truths, 2);
}

TEST(Coco2D, MaxDetectionsPerImage) {
  const std::vector<Detection2D> dets = {
      {"a", box(0, 0, 10, 10), 0.9}, {"a", box(0, 0, 10, 10), 0.8}, {"a", box(20, 20, 30, 30), 0.7}};
  eval::Coco2DOptions opt;
  opt.max_detections = 1;
  const auto r = eval::evaluate_coco2d(two_truths(), dets, opt);
  EXPECT_NEAR(r.ap50, 51.0 / 101, 1e-12);
  EXPECT_DOUBLE_EQ(r.ar100, 0.5);
}

TEST(Coco2D, EmptyInputs) {
  const auto no_dets = eval::evaluate_coco2d(two_truths(), {});
  EXPECT_DOUBLE_EQ(no_dets.ap50, 0.0);
  EXPECT_DOUBLE_EQ(no_dets.ar100, 0.0);
  const auto no_truths = eval::evaluate_coco2d({}, {{"a", box(0, 0, 1, 1), 0.5}});
  EXPECT_DOUBLE_EQ(no_truths.ap50, -1.0);
  EXPECT_DOUBLE_EQ(no_truths.ap50_95, -1.0);
  EXPECT_DOUBLE_EQ(eval::evaluate_coco2d({}, {}).ar100, -1.0);
}

TEST(Coco2D, BadInputNamesTheEntry) {
  try {
    eval::evaluate_coco2d(two_truths(), {{"a", box(0, 0, 1, 1), 1.5}});
    FAIL() << "expected InputError";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("detection 0 (image 'a'): score = 1.5"), std::string::npos) << e.what();
  }
  EXPECT_THROW(eval::evaluate_coco2d({{"a", box(0, 0, NAN, 1), false}}, {}), core::InputError);
  EXPECT_THROW(eval::evaluate_coco2d({{"a", box(5, 0, 1, 1), false}}, {}), core::InputError);
  eval::Coco2DOptions bad;
  bad.iou_thresholds = {1.5};
  EXPECT_THROW(eval::evaluate_coco2d(two_truths(), {}, bad), core::InputError);
}

TEST(Coco2D, AgreesWithBruteForceOnRandomSets) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> pos(0, 400), size(6, 40), jitter(-6, 6), unit(0, 1);
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<GroundTruth2D> gts;
    std::vector<Detection2D> dets;
    for (int i = 0; i < 300; ++i) {
      const std::string image = "img" + std::to_string(i % 25);
      const double x = pos(rng), y = pos(rng), w = size(rng), h = size(rng);
      gts.push_back({image, box(x, y, x + w, y + h), unit(rng) < 0.1});
      const int copies = unit(rng) < 0.7 ? 1 + (unit(rng) < 0.2) : 0;
      for (int c = 0; c < copies; ++c) {
        const double dx = jitter(rng), dy = jitter(rng);
        dets.push_back({image, box(x + dx, y + dy, x + dx + w + jitter(rng), y + dy + h + jitter(rng)), unit(rng)});
      }
      if (unit(rng) < 0.5) {
        const double px = pos(rng), py = pos(rng);
        dets.push_back({image, box(px, py, px + size(rng), py + size(rng)), unit(rng) * 0.8});
      }
    }
    const int max_det = trial == 4 ? 5 : 100;
    eval::Coco2DOptions opt;
    opt.max_detections = max_det;
    const auto fast = eval::evaluate_coco2d(gts, dets, opt);
    const auto ref = brute_force(gts, dets, eval::default_coco_iou_thresholds(), max_det);
    ASSERT_EQ(fast.ap_per_iou.size(), ref.ap.size());
    double ar = 0;
    for (std::size_t i = 0; i < ref.ap.size(); ++i) {
      EXPECT_NEAR(fast.ap_per_iou[i], ref.ap[i], 1e-9) << "trial " << trial << " iou index " << i;
      ar += ref.recall[i] / ref.recall.size();
    }
    EXPECT_NEAR(fast.ar100, ar, 1e-9);
    EXPECT_GT(fast.ap50, 0.05);
    EXPECT_LT(fast.ap50, 0.99);
  }
}
