// View-set data: synthetic sets round-trip through core's ViewSet format, samples carry the truth boxes, bad inputs
// fail with named errors; boxes2d JSON (docs/eval.md) and overlays.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "xraylift/core/error.hpp"
#include "xraylift/core/npy.hpp"
#include "xraylift/detect2d/data.hpp"
#include "xraylift/detect2d/inference.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
using namespace xraylift::detect2d;

TEST(ViewSetData, SyntheticSetsLoadAsSamplesWithTheirTruthBoxes) {
  const auto dir = xraylift::testing::scratch_dir("detect2d_data");
  const auto infos = write_synthetic_view_sets(dir, 2, 3, 64, 5);
  ASSERT_EQ(infos.size(), 2u);
  ViewSetDataset from_files(infos);
  ViewSetDataset from_root({dir});  // a folder of case folders
  ASSERT_EQ(from_files.size(), 6u);
  ASSERT_EQ(from_root.size(), 6u);
  const auto s = from_files.get(4);
  EXPECT_EQ(s.id, "synthetic1/" + from_files.items()[4].view.camera.name());
  EXPECT_EQ(s.at("image").sizes(), (std::vector<int64_t>{1, 64, 64}));
  EXPECT_GE(s.at("image").min().item<float>(), 0.f);
  EXPECT_LE(s.at("image").max().item<float>(), 1.f);
  const auto& boxes = s.at("boxes");
  ASSERT_GE(boxes.size(0), 1);
  EXPECT_EQ(s.at("labels").size(0), boxes.size(0));
  // The blob is bright inside its box: the box centre is brighter than the image median.
  const auto b = boxes[0];
  const int cx = int((b[0].item<float>() + b[2].item<float>()) / 2),
            cy = int((b[1].item<float>() + b[3].item<float>()) / 2);
  EXPECT_GT(s.at("image")[0][cy][cx].item<float>(), s.at("image").median().item<float>());
  EXPECT_THROW(from_files.get(6), core::InputError);

  // Batches stack images and keep per-image targets.
  const train::Batch batch{from_files.get(0), from_files.get(1)};
  EXPECT_EQ(batch_images(batch, torch::kCPU).sizes(), (std::vector<int64_t>{2, 1, 64, 64}));
  EXPECT_EQ(batch_targets(batch, torch::kCPU).size(), 2u);
}

TEST(ViewSetData, BadInputsNameTheProblem) {
  const auto dir = xraylift::testing::scratch_dir("detect2d_data_bad");
  EXPECT_THROW(ViewSetDataset({dir / "missing"}), core::InputError);
  std::filesystem::create_directories(dir / "empty");
  EXPECT_THROW(ViewSetDataset({dir / "empty"}), core::InputError);
  // A line-integral array whose size disagrees with the camera.
  const auto infos = write_synthetic_view_sets(dir / "sets", 1, 1, 32, 1);
  const float zeros[16] = {};
  core::write_npy(dir / "sets/synthetic0/view00.npy", zeros, {4, 4});
  ViewSetDataset ds(infos);
  try {
    ds.get(0);
    FAIL() << "expected an error";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("view00.npy"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ViewDataOptions::from_config(core::Config::from_yaml("window: log")), core::ConfigError);
}

TEST(Inference, Boxes2dJsonAndEvaluationAndOverlay) {
  const auto dir = xraylift::testing::scratch_dir("detect2d_inference");
  const auto infos = write_synthetic_view_sets(dir / "sets", 1, 2, 64, 9);
  ViewSetDataset ds(infos);
  // Perfect detections: the truth boxes with score 0.9, plus one false positive with a lower score.
  std::vector<ImageDetections> dets;
  for (std::size_t i = 0; i < ds.size(); ++i) {
    const auto s = ds.get(i);
    ImageDetections d;
    d.image_id = s.id;
    d.case_id = ds.items()[i].case_id;
    d.view = ds.items()[i].view.camera.name();
    d.width = d.height = 64;
    d.boxes = torch::cat({s.at("boxes"), torch::tensor({{0.f, 0.f, 3.f, 3.f}})});
    d.scores = torch::cat({torch::full({s.at("boxes").size(0)}, 0.9f), torch::tensor({0.1f})});
    dets.push_back(d);
  }
  const auto ev = evaluate_detections(dets, ds);
  EXPECT_NEAR(ev.overall.ap50, 1.0, 1e-9);
  EXPECT_EQ(ev.per_view.size(), 2u);
  const auto j = detections_json(dets);
  EXPECT_EQ(j["format"], "xraylift.boxes2d");
  EXPECT_EQ(j["source"], "prediction");
  ASSERT_EQ(j["images"].size(), 2u);
  EXPECT_EQ(j["images"][0]["image_id"], dets[0].image_id);
  EXPECT_EQ(j["images"][0]["boxes"].back()["score"].get<double>(), double(0.1f));
  const auto t = truth_json(ds);
  EXPECT_EQ(t["source"], "truth");
  EXPECT_EQ(t["images"][1]["boxes"].size(), std::size_t(ds.get(1).at("boxes").size(0)));
  write_overlay_png(dir / "o.png", ds.get(0).at("image"), ds.get(0).at("boxes"), dets[0]);
  EXPECT_GT(std::filesystem::file_size(dir / "o.png"), 100u);
}

// Ignore regions (sub-3 mm marks, non-nodules, boxes below min_box_size) reach the detector as ignore_boxes,
// the truth file as "ignore": true, and scoring as crowd regions: detecting them is neither a hit nor an FP.
TEST(ViewSetData, IgnoreRegionsAreNeitherTruthNorBackground) {
  const auto dir = xraylift::testing::scratch_dir("detect2d_ignore");
  const auto infos = write_synthetic_view_sets(dir / "sets", 1, 2, 64, 9);
  auto set = core::read_view_set(infos[0]);
  ASSERT_GE(set.views[0].boxes.size(), 2u);
  set.views[0].boxes[0].ignore = true;
  core::write_view_set(infos[0], set);
  ASSERT_TRUE(core::read_view_set(infos[0]).views[0].boxes[0].ignore);  // the flag round-trips

  ViewSetDataset ds(infos);
  const auto s = ds.get(0);
  const std::size_t visible = set.views[0].boxes.size();
  EXPECT_EQ(s.at("ignore_boxes").size(0), 1);
  EXPECT_EQ(std::size_t(s.at("boxes").size(0)), visible - 1);
  const auto targets = batch_targets({s}, torch::kCPU);
  EXPECT_EQ(targets[0].ignore.size(0), 1);
  const auto t = truth_json(ds);
  int ignored = 0;
  for (const auto& b : t["images"][0]["boxes"]) ignored += b.value("ignore", false);
  EXPECT_EQ(ignored, 1);

  // Detections on every box, the ignored one included: AP stays 1 (the ignore region absorbs its detection).
  std::vector<ImageDetections> dets;
  for (std::size_t i = 0; i < ds.size(); ++i) {
    const auto si = ds.get(i);
    ImageDetections d;
    d.image_id = si.id;
    d.case_id = ds.items()[i].case_id;
    d.view = ds.items()[i].view.camera.name();
    d.width = d.height = 64;
    d.boxes = torch::cat({si.at("boxes"), si.at("ignore_boxes")});
    d.scores = torch::full({d.boxes.size(0)}, 0.9f);
    dets.push_back(d);
  }
  const auto ev = evaluate_detections(dets, ds);
  EXPECT_NEAR(ev.overall.ap50, 1.0, 1e-9);
  EXPECT_EQ(ev.overall.num_truths, int(visible - 1 + ds.get(1).at("boxes").size(0)));

  // A box below min_box_size is an ignore region too, not dropped.
  ViewDataOptions big;
  big.min_box_size = 1e6;
  ViewSetDataset all_small(infos, big);
  EXPECT_EQ(all_small.get(0).at("boxes").size(0), 0);
  EXPECT_EQ(std::size_t(all_small.get(0).at("ignore_boxes").size(0)), visible);
}
