#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "xraylift/core/config.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/projection.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/detect3d/triangulate.hpp"

using namespace xraylift;
using detect3d::TriangulateOptions;
using detect3d::ViewDetections;

namespace {

// Nodules of 3..30 mm (each axis 0.8..1.2 of a base size) inside a chest-size region around the isocentre,
// separated by >= 2 mm along some axis (nodules do not overlap).
std::vector<core::Box3D> random_nodules(std::mt19937& rng, int n) {
  std::uniform_real_distribution<double> x(-100, 100), y(-70, 70), z(-80, 80), d(3, 30), aniso(0.8, 1.2);
  std::vector<core::Box3D> out;
  while (static_cast<int>(out.size()) < n) {
    core::Box3D b;
    b.center = {x(rng), y(rng), z(rng)};
    const double base = d(rng);
    b.size = {base * aniso(rng), base * aniso(rng), base * aniso(rng)};
    const bool overlaps = std::any_of(out.begin(), out.end(), [&](const core::Box3D& o) {
      return ((b.center - o.center).cwiseAbs() - 0.5 * (b.size + o.size)).maxCoeff() < 2.0;
    });
    if (!overlaps) out.push_back(b);
  }
  return out;
}

// Perfect 2D detections: the projected ground truth (core::project_box) in every view that sees it.
std::vector<ViewDetections> perfect_views(const core::Rig& rig, const std::vector<core::Box3D>& truths,
                                          std::mt19937* rng = nullptr) {
  std::uniform_real_distribution<double> score(0.6, 1.0);
  std::vector<ViewDetections> views;
  for (const auto& cam : rig) {
    ViewDetections v{cam, {}, {}};
    for (const auto& t : truths) {
      const auto pb = core::project_box(cam, t);
      if (!pb.visible) continue;
      v.boxes.push_back(pb.box);
      v.scores.push_back(rng ? score(*rng) : 0.9);
    }
    views.push_back(std::move(v));
  }
  return views;
}

// Random boxes (2..60 px at 1024 px, scaled with the detector), most with low scores, `high` per view scoring 0.85+.
void add_false_positives(std::vector<ViewDetections>& views, std::mt19937& rng, int per_view, int high) {
  std::uniform_real_distribution<double> unit(0, 1);
  for (auto& v : views) {
    const double W = v.camera.width(), H = v.camera.height(), px = W / 1024.0;
    for (int i = 0; i < per_view; ++i) {
      const double w = (2 + 58 * unit(rng)) * px, h = (2 + 58 * unit(rng)) * px;
      const double x0 = unit(rng) * (W - w), y0 = unit(rng) * (H - h);
      v.boxes.push_back(core::Box2D{x0, y0, x0 + w, y0 + h});
      v.scores.push_back(i < high ? 0.85 + 0.15 * unit(rng) : 0.05 + 0.45 * unit(rng));
    }
  }
}

// Removes nodule `t`'s box from `count` distinct random views (boxes are in truth order, FPs come after).
void drop_views_of(std::vector<ViewDetections>& views, const std::vector<core::Box3D>& truths, std::mt19937& rng,
                   int count) {
  for (std::size_t t = 0; t < truths.size(); ++t) {
    std::vector<int> order(views.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::shuffle(order.begin(), order.end(), rng);
    for (int k = 0; k < count; ++k) {
      auto& v = views[order[k]];
      const core::Box2D target = core::project_box(v.camera, truths[t]).box;
      for (std::size_t i = 0; i < v.boxes.size(); ++i) {
        if (v.boxes[i].x0 == target.x0 && v.boxes[i].y0 == target.y0 && v.boxes[i].x1 == target.x1 &&
            v.boxes[i].y1 == target.y1) {
          v.boxes.erase(v.boxes.begin() + i);
          v.scores.erase(v.scores.begin() + i);
          break;
        }
      }
    }
  }
}

struct Outcome {
  double worst_centre_mm = 0;  // over truths, to the nearest prediction
  double worst_size_rel = 0;   // max over axes and truths, |size - truth| / truth
  int spurious = 0;            // predictions nearest to no truth
  double best_spurious_score = 0;
  double worst_true_score = 1;
};

Outcome compare(const std::vector<core::BoxRecord>& preds, const std::vector<core::Box3D>& truths) {
  Outcome o;
  std::vector<char> used(preds.size(), 0);
  for (const auto& t : truths) {
    int best = -1;
    double dist = std::numeric_limits<double>::infinity();
    for (std::size_t p = 0; p < preds.size(); ++p) {
      const double d = (preds[p].box.center - t.center).norm();
      if (d < dist) {
        dist = d;
        best = static_cast<int>(p);
      }
    }
    if (best < 0) {
      o.worst_centre_mm = o.worst_size_rel = std::numeric_limits<double>::infinity();
      continue;
    }
    used[best] = 1;
    o.worst_centre_mm = std::max(o.worst_centre_mm, dist);
    o.worst_size_rel =
        std::max(o.worst_size_rel, ((preds[best].box.size - t.size).cwiseAbs().cwiseQuotient(t.size)).maxCoeff());
    o.worst_true_score = std::min(o.worst_true_score, preds[best].score);
  }
  for (std::size_t p = 0; p < preds.size(); ++p) {
    if (used[p]) continue;
    ++o.spurious;
    o.best_spurious_score = std::max(o.best_spurious_score, preds[p].score);
  }
  return o;
}

core::Rig ring(int width) {
  const core::Rig rig = core::Rig::ring(core::RingSpec{});
  return width == 1024 ? rig : rig.with_detector_width(width);
}

std::string what_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const core::InputError& e) {
    return e.what();
  }
  return "<no InputError>";
}

}  // namespace

TEST(Triangulate, PerfectBoxesInAllViewsRecoverCentresAndSizes) {
  for (int width : {1024, 256}) {
    const core::Rig rig = ring(width);
    for (int c = 0; c < 6; ++c) {
      std::mt19937 rng(100 + c);
      const auto truths = random_nodules(rng, 6);
      const auto preds = detect3d::triangulate(perfect_views(rig, truths), TriangulateOptions{});
      const Outcome o = compare(preds, truths);
      SCOPED_TRACE(testing::Message() << width << " px, case " << c);
      EXPECT_EQ(preds.size(), truths.size());
      EXPECT_LE(o.worst_centre_mm, 0.5);
      EXPECT_LE(o.worst_size_rel, 0.10);
      for (const auto& p : preds) {
        EXPECT_EQ(p.source, core::BoxSource::kPrediction);
        EXPECT_NEAR(p.score, 0.9, 1e-9);  // every view that sees it agrees
      }
    }
  }
}

TEST(Triangulate, SmallestAndLargestNodulesAtTheRegionCorners) {
  // 3 mm and 30 mm cubes at the corners of the region, where perspective moves a box's 2D centre most.
  const core::Rig rig = ring(256);
  std::vector<core::Box3D> truths;
  for (double sx : {-1.0, 1.0})
    for (double sz : {-1.0, 1.0}) {
      core::Box3D small, large;
      small.center = {sx * 100, 70, sz * 80};
      small.size = Eigen::Vector3d::Constant(3);
      large.center = {sx * 100, -70, sz * 80};
      large.size = Eigen::Vector3d::Constant(30);
      truths.push_back(small);
      truths.push_back(large);
    }
  const auto preds = detect3d::triangulate(perfect_views(rig, truths), TriangulateOptions{});
  const Outcome o = compare(preds, truths);
  EXPECT_EQ(preds.size(), truths.size());
  EXPECT_LE(o.worst_centre_mm, 0.5);
  EXPECT_LE(o.worst_size_rel, 0.10);
}

TEST(Triangulate, WithoutTheBoxFitTheRaysStillLocateNodules) {
  // fit_box: false keeps the rays' least-squares centre and the linear (orthographic) size: coarser, bounded.
  TriangulateOptions o;
  o.fit_box = false;
  for (int c = 0; c < 6; ++c) {
    std::mt19937 rng(600 + c);
    const auto truths = random_nodules(rng, 6);
    const auto preds = detect3d::triangulate(perfect_views(ring(1024), truths), o);
    const Outcome out = compare(preds, truths);
    SCOPED_TRACE(testing::Message() << "case " << c);
    EXPECT_EQ(preds.size(), truths.size());
    EXPECT_LE(out.worst_centre_mm, 1.5);  // measured <= 1.02 mm: the rays through box centres, not 3D centres
    EXPECT_LE(out.worst_size_rel, 0.5);   // measured <= 0.39: orthographic sizes ignore the near face's magnification
  }
}

TEST(Triangulate, MissingViewsStillRecoverEveryNodule) {
  // Each nodule loses its box in 2 or 3 random views; separately, 3 whole views are empty.
  for (int width : {1024, 256}) {
    const core::Rig rig = ring(width);
    for (int c = 0; c < 6; ++c) {
      std::mt19937 rng(200 + c);
      const auto truths = random_nodules(rng, 6);
      auto views = perfect_views(rig, truths, &rng);
      drop_views_of(views, truths, rng, 2 + c % 2);
      const auto preds = detect3d::triangulate(views, TriangulateOptions{});
      const Outcome o = compare(preds, truths);
      SCOPED_TRACE(testing::Message() << width << " px, case " << c);
      EXPECT_EQ(preds.size(), truths.size());
      EXPECT_LE(o.worst_centre_mm, 0.5);
      EXPECT_LE(o.worst_size_rel, 0.10);

      auto blank = perfect_views(rig, truths, &rng);
      for (int v : {1, 4, 8}) blank[v].boxes.clear(), blank[v].scores.clear();
      const Outcome b = compare(detect3d::triangulate(blank, TriangulateOptions{}), truths);
      EXPECT_EQ(b.spurious, 0);
      EXPECT_LE(b.worst_centre_mm, 0.5);
      EXPECT_LE(b.worst_size_rel, 0.10);
    }
  }
}

TEST(Triangulate, FalsePositivesNeitherHideNodulesNorOutscoreThem) {
  // 40 cases per detector width: 5 nodules with perfect boxes scoring 0.6..1, each missing in 0 or 3 random views,
  // plus 8 random boxes per view (2 of them scoring >= 0.85). Every nodule is found within 0.5 mm / 10 %; at most
  // 3 spurious boxes in a case, at most 1 per case on average, each scoring below every true nodule.
  for (int width : {1024, 256}) {
    const core::Rig rig = ring(width);
    for (int drop : {0, 3}) {
      int spurious = 0;
      const int cases = 40;
      for (int c = 0; c < cases; ++c) {
        std::mt19937 rng(300 + c);
        const auto truths = random_nodules(rng, 5);
        auto views = perfect_views(rig, truths, &rng);
        if (drop) drop_views_of(views, truths, rng, drop);
        add_false_positives(views, rng, 8, 2);
        const auto preds = detect3d::triangulate(views, TriangulateOptions{});
        const Outcome o = compare(preds, truths);
        SCOPED_TRACE(testing::Message() << width << " px, " << drop << " views missing, case " << c);
        EXPECT_LE(o.worst_centre_mm, 0.5);
        EXPECT_LE(o.worst_size_rel, 0.10);
        EXPECT_LE(o.spurious, 3);
        EXPECT_LT(o.best_spurious_score, o.worst_true_score);
        spurious += o.spurious;
      }
      EXPECT_LE(spurious, cases) << width << " px, " << drop << " views missing";
    }
  }
}

TEST(Triangulate, NoisyBoxesStayClose) {
  // Box edges moved by Gaussian noise of 1 px at 1024 px (0.25 px at 256), 3 views missing per nodule, 8 false
  // positives per view: every nodule within 1 mm and 30 % (a 3 mm nodule spans ~8 px at 1024).
  for (int width : {1024, 256}) {
    const core::Rig rig = ring(width);
    for (int c = 0; c < 20; ++c) {
      std::mt19937 rng(500 + c);
      const auto truths = random_nodules(rng, 5);
      auto views = perfect_views(rig, truths, &rng);
      drop_views_of(views, truths, rng, 3);
      std::normal_distribution<double> noise(0.0, width / 1024.0);
      for (auto& v : views)
        for (auto& b : v.boxes) {
          b.x0 += noise(rng), b.y0 += noise(rng), b.x1 += noise(rng), b.y1 += noise(rng);
          b.x1 = std::max(b.x1, b.x0 + 0.1), b.y1 = std::max(b.y1, b.y0 + 0.1);
        }
      add_false_positives(views, rng, 8, 2);
      const Outcome o = compare(detect3d::triangulate(views, TriangulateOptions{}), truths);
      SCOPED_TRACE(testing::Message() << width << " px, case " << c);
      EXPECT_LE(o.worst_centre_mm, 1.0);
      EXPECT_LE(o.worst_size_rel, 0.30);
      EXPECT_LE(o.spurious, 3);
      EXPECT_LT(o.best_spurious_score, o.worst_true_score);
    }
  }
}

TEST(Triangulate, IsDeterministicAndIgnoresDetectionOrder) {
  const core::Rig rig = ring(1024);
  std::mt19937 rng(7);
  const auto truths = random_nodules(rng, 5);
  auto views = perfect_views(rig, truths, &rng);
  add_false_positives(views, rng, 5, 1);
  const auto a = detect3d::triangulate(views, TriangulateOptions{});
  const auto b = detect3d::triangulate(views, TriangulateOptions{});
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].box.center, b[i].box.center);
    EXPECT_EQ(a[i].box.size, b[i].box.size);
    EXPECT_EQ(a[i].score, b[i].score);
  }
  // Reversed detection order: the same true nodules, same places.
  for (auto& v : views) {
    std::reverse(v.boxes.begin(), v.boxes.end());
    std::reverse(v.scores.begin(), v.scores.end());
  }
  const Outcome o = compare(detect3d::triangulate(views, TriangulateOptions{}), truths);
  EXPECT_LE(o.worst_centre_mm, 0.5);
  EXPECT_LE(o.worst_size_rel, 0.10);
}

TEST(Triangulate, MinViewsAndScoreFollowAgreement) {
  // One nodule seen (detected) in exactly 3 views: kept with min_views 3 (score 3 * 0.9 / 10), gone with 4.
  const core::Rig rig = ring(1024);
  core::Box3D t;
  t.center = {12, -20, 30};
  t.size = {8, 10, 6};
  auto views = perfect_views(rig, {t});
  for (int v : {1, 2, 4, 5, 7, 8, 9}) views[v].boxes.clear(), views[v].scores.clear();
  const auto kept = detect3d::triangulate(views, TriangulateOptions{});
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_NEAR(kept[0].score, 0.27, 1e-9);
  EXPECT_LE((kept[0].box.center - t.center).norm(), 0.5);
  TriangulateOptions four;
  four.min_views = 4;
  EXPECT_TRUE(detect3d::triangulate(views, four).empty());
  TriangulateOptions high;
  high.min_score = 0.5;
  EXPECT_TRUE(detect3d::triangulate(views, high).empty());
}

TEST(Triangulate, DuplicateDetectionsMergeIn3D) {
  // The 2D detector reports every nodule twice (a box and a 1 px larger copy): one 3D box per nodule.
  const core::Rig rig = ring(1024);
  std::mt19937 rng(9);
  const auto truths = random_nodules(rng, 4);
  auto views = perfect_views(rig, truths);
  for (auto& v : views) {
    const std::size_t n = v.boxes.size();
    for (std::size_t i = 0; i < n; ++i) {
      const auto b = v.boxes[i];
      v.boxes.push_back(core::Box2D{b.x0 - 0.5, b.y0 - 0.5, b.x1 + 0.5, b.y1 + 0.5});
      v.scores.push_back(0.5);
    }
  }
  const auto preds = detect3d::triangulate(views, TriangulateOptions{});
  const Outcome o = compare(preds, truths);
  EXPECT_EQ(preds.size(), truths.size());
  EXPECT_LE(o.worst_centre_mm, 0.5);
}

TEST(Triangulate, NoBoxesGiveNoPredictions) {
  std::vector<ViewDetections> views;
  for (const auto& cam : ring(256)) views.push_back(ViewDetections{cam, {}, {}});
  EXPECT_TRUE(detect3d::triangulate(views, TriangulateOptions{}).empty());
}

TEST(Triangulate, BadInputIsAClearInputError) {
  const core::Rig rig = ring(256);
  core::Box3D t;
  t.size = {10, 10, 10};
  auto good = perfect_views(rig, {t});

  auto counts = good;
  counts[3].scores.push_back(0.5);
  std::string msg = what_of([&] { detect3d::triangulate(counts, TriangulateOptions{}); });
  EXPECT_NE(msg.find("views[3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1 boxes but 2 scores"), std::string::npos) << msg;

  const std::vector<ViewDetections> single(good.begin(), good.begin() + 1);
  msg = what_of([&] { detect3d::triangulate(single, TriangulateOptions{}); });
  EXPECT_NE(msg.find("1 view given"), std::string::npos) << msg;

  const std::vector<ViewDetections> two(good.begin(), good.begin() + 2);
  msg = what_of([&] { detect3d::triangulate(two, TriangulateOptions{}); });
  EXPECT_NE(msg.find("min_views is 3"), std::string::npos) << msg;

  auto nan = good;
  nan[5].boxes[0].x1 = std::numeric_limits<double>::quiet_NaN();
  msg = what_of([&] { detect3d::triangulate(nan, TriangulateOptions{}); });
  EXPECT_NE(msg.find("views[5]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("boxes[0]"), std::string::npos) << msg;

  auto inf = good;
  inf[2].boxes[0].y0 = -std::numeric_limits<double>::infinity();
  EXPECT_THROW(detect3d::triangulate(inf, TriangulateOptions{}), core::InputError);

  auto score = good;
  score[1].scores[0] = 1.5;
  EXPECT_THROW(detect3d::triangulate(score, TriangulateOptions{}), core::InputError);

  auto no_camera = good;
  no_camera[4].camera = core::Camera();
  msg = what_of([&] { detect3d::triangulate(no_camera, TriangulateOptions{}); });
  EXPECT_NE(msg.find("views[4]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no camera"), std::string::npos) << msg;

  TriangulateOptions bad;
  bad.rays.max_ray_distance_mm = -1;
  EXPECT_THROW(detect3d::triangulate(good, bad), core::ConfigError);
}

TEST(Triangulate, OptionsFromYaml) {
  const core::Config config = core::Config::from_yaml(
      "detect3d:\n"
      "  method: triangulate\n"
      "  triangulate:\n"
      "    min_views: 4\n"
      "    max_ray_distance_mm: 3.5\n"
      "    ray_distance_fraction: 0.2\n"
      "    min_ray_angle_deg: 15\n"
      "    max_size_ratio: 1.5\n"
      "    min_detection_score: 0.05\n"
      "    max_iterations: 3\n"
      "    fit_box: false\n"
      "    min_size_mm: 1\n"
      "    merge_iou: 0.5\n"
      "    min_score: 0.1\n"
      "  scene:\n"
      "    min_mm: [-150, -120, -180]\n"
      "    max_mm: [150, 120, 180]\n",
      "d3.yaml");
  const auto o = TriangulateOptions::from_config(config.section("detect3d").section("triangulate"),
                                                 detect3d::SceneRange::from_config(config.section("detect3d.scene")));
  EXPECT_EQ(o.min_views, 4);
  EXPECT_DOUBLE_EQ(o.rays.max_ray_distance_mm, 3.5);
  EXPECT_DOUBLE_EQ(o.rays.ray_distance_fraction, 0.2);
  EXPECT_DOUBLE_EQ(o.rays.min_ray_angle_deg, 15);
  EXPECT_DOUBLE_EQ(o.max_size_ratio, 1.5);
  EXPECT_DOUBLE_EQ(o.min_detection_score, 0.05);
  EXPECT_EQ(o.max_iterations, 3);
  EXPECT_FALSE(o.fit_box);
  EXPECT_DOUBLE_EQ(o.min_size_mm, 1);
  EXPECT_DOUBLE_EQ(o.merge_iou, 0.5);
  EXPECT_DOUBLE_EQ(o.min_score, 0.1);
  EXPECT_EQ(o.scene.min_mm, Eigen::Vector3d(-150, -120, -180));
  EXPECT_EQ(o.scene.max_mm, Eigen::Vector3d(150, 120, 180));
  // Every key of the section was read; only the lead's `method` is left to its consumer.
  EXPECT_EQ(config.unknown_keys(), std::vector<std::string>{"detect3d.method"});

  // Defaults when the section is absent.
  const auto d = TriangulateOptions::from_config(core::Config().section("detect3d").section("triangulate"));
  EXPECT_EQ(d.min_views, 3);
  EXPECT_DOUBLE_EQ(d.rays.max_ray_distance_mm, 5.0);
  EXPECT_TRUE(d.fit_box);
}

TEST(Triangulate, BadOptionsNameTheKeyAndFile) {
  auto message = [](const std::string& yaml) {
    try {
      const core::Config c = core::Config::from_yaml(yaml, "bad.yaml");
      TriangulateOptions::from_config(c.section("detect3d").section("triangulate"));
    } catch (const core::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("<no ConfigError>");
  };
  std::string msg = message("detect3d:\n  triangulate:\n    min_veiws: 4\n");
  EXPECT_NE(msg.find("'detect3d.triangulate.min_veiws'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("bad.yaml"), std::string::npos) << msg;
  msg = message("detect3d:\n  triangulate:\n    scene:\n      min_mm: [0, 0, 0]\n");  // the scene is shared now
  EXPECT_NE(msg.find("'detect3d.triangulate.scene.min_mm'"), std::string::npos) << msg;
  msg = message("detect3d:\n  triangulate:\n    min_views: three\n");
  EXPECT_NE(msg.find("'detect3d.triangulate.min_views'"), std::string::npos) << msg;
  msg = message("detect3d:\n  triangulate:\n    min_views: 1\n");
  EXPECT_NE(msg.find("min_views = 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("detect3d.triangulate"), std::string::npos) << msg;
  EXPECT_NE(msg.find("bad.yaml"), std::string::npos) << msg;
  msg = message("detect3d:\n  triangulate:\n    merge_iou: 2\n");
  EXPECT_NE(msg.find("merge_iou = 2"), std::string::npos) << msg;
  try {  // a metre-scale scene box is a config error (exit 2) naming the key, as every config mistake
    const core::Config c = core::Config::from_yaml(
        "detect3d:\n  scene:\n    min_mm: [-0.2, -0.2, -0.2]\n    max_mm: [0.2, 0.2, 0.2]\n", "bad.yaml");
    detect3d::SceneRange::from_config(c.section("detect3d.scene"));
    ADD_FAILURE() << "a metre-scale scene was accepted";
  } catch (const core::ConfigError& e) {
    msg = e.what();
    EXPECT_NE(msg.find("millimetres"), std::string::npos) << msg;
    EXPECT_NE(msg.find("detect3d.scene"), std::string::npos) << msg;
    EXPECT_NE(msg.find("bad.yaml"), std::string::npos) << msg;
  }
}
