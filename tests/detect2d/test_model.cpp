// Model assembly: torchvision-compatible names and sizes, box coding, anchors, forward shapes, weight loading.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/detect2d/model.hpp"
#include "xraylift/detect2d/weights.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
using namespace xraylift::detect2d;

namespace {

ModelConfig tiny_config() {
  ModelConfig c;
  c.depth = 18;
  c.base_width = 8;
  c.norm = "gn";
  c.gn_groups = 4;
  c.fpn_stages = {2, 3};
  c.fpn_extra_levels = 1;
  c.fpn_channels = 16;
  c.anchor_scales = {2};
  c.representation_size = 32;
  c.rpn_pre_nms_top_n_test = 50;
  c.rpn_post_nms_top_n_test = 20;
  return c;
}

int64_t count_parameters(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace

TEST(Model, TorchvisionResNet50FpnHasTheSameNamesAndParameterCount) {
  // torchvision.models.detection.fasterrcnn_resnet50_fpn(num_classes=91): 41,755,286 parameters, FrozenBN
  // statistics as buffers, strides 4..32 + pool, one anchor size per level and three ratios.
  ModelConfig c;
  c.in_channels = 3;
  c.num_classes = 90;
  c.fpn_stages = {1, 2, 3, 4};
  c.fpn_extra_levels = 1;
  c.anchor_scales = {8};
  FasterRCNN model(c);
  EXPECT_EQ(count_parameters(*model), 41755286);
  const auto params = model->named_parameters();
  for (const char* name : {"backbone.body.conv1.weight", "backbone.body.layer1.0.conv1.weight",
                           "backbone.body.layer1.0.downsample.0.weight", "backbone.body.layer4.2.conv3.weight",
                           "backbone.fpn.inner_blocks.0.0.weight", "backbone.fpn.layer_blocks.3.0.bias",
                           "rpn.head.conv.0.0.weight", "rpn.head.cls_logits.weight", "rpn.head.bbox_pred.bias",
                           "roi_heads.box_head.fc6.weight", "roi_heads.box_head.fc7.bias",
                           "roi_heads.box_predictor.cls_score.weight", "roi_heads.box_predictor.bbox_pred.weight"})
    EXPECT_TRUE(params.contains(name)) << name;
  const auto buffers = model->named_buffers();
  EXPECT_TRUE(buffers.contains("backbone.body.bn1.running_var"));
  EXPECT_TRUE(buffers.contains("backbone.body.layer1.0.downsample.1.running_mean"));
  EXPECT_EQ(c.strides(), (std::vector<int64_t>{4, 8, 16, 32, 64}));
}

TEST(Model, ResNetBodiesMatchTorchvisionParameterCounts) {
  // torchvision resnet18/34/50 totals minus their 1000-class fc layer (512 * 1000 + 1000, 2048 * 1000 + 1000).
  const std::pair<int, int64_t> expected[] = {
      {18, 11689512 - 513000}, {34, 21797672 - 513000}, {50, 25557032 - 2049000}};
  for (const auto& [depth, count] : expected) {
    ModelConfig c;
    c.depth = depth;
    c.in_channels = 3;
    c.norm = "bn";  // trainable BN: its affine weights are parameters, as in torchvision
    Backbone backbone(c);
    EXPECT_EQ(count_parameters(*backbone->body), count) << "ResNet-" << depth;
  }
}

TEST(Model, ConfigValidationNamesTheField) {
  ModelConfig c;
  c.depth = 19;
  EXPECT_THROW(c.validate(), core::ConfigError);
  c = ModelConfig{};
  c.norm = "layer";
  try {
    c.validate();
    FAIL();
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("norm"), std::string::npos);
  }
  const auto cfg = core::Config::from_yaml("depth: 18\nfpn: {stages: [3, 4], extra_levels: 2}\n");
  const auto m = ModelConfig::from_config(cfg);
  EXPECT_EQ(m.strides(), (std::vector<int64_t>{16, 32, 64, 128}));
}

TEST(BoxCoder, EncodeDecodeRoundTripAndKnownValues) {
  auto gen = at::detail::createCPUGenerator(1);
  auto ref_xy = torch::rand({50, 2}, gen) * 100;
  auto ref = torch::cat({ref_xy, ref_xy + torch::rand({50, 2}, gen) * 40 + 1}, 1);
  auto gt_xy = torch::rand({50, 2}, gen) * 100;
  auto gt = torch::cat({gt_xy, gt_xy + torch::rand({50, 2}, gen) * 40 + 1}, 1);
  const std::vector<double> w{10, 10, 5, 5};
  const auto d = encode_boxes(ref, gt, w);
  EXPECT_TRUE(torch::allclose(decode_boxes(d, ref, w), gt, 1e-4, 1e-3));
  // A box shifted by half its width and doubled in height: dx = 0.5 * 10, dh = log 2 * 5.
  const auto r = torch::tensor({{0.f, 0.f, 10.f, 10.f}});
  const auto g = torch::tensor({{5.f, -5.f, 15.f, 15.f}});
  const auto e = encode_boxes(r, g, w);
  EXPECT_NEAR(e[0][0].item<float>(), 5.0, 1e-5);
  EXPECT_NEAR(e[0][1].item<float>(), 0.0, 1e-5);
  EXPECT_NEAR(e[0][2].item<float>(), 0.0, 1e-5);
  EXPECT_NEAR(e[0][3].item<float>(), 5 * std::log(2.0), 1e-5);
}

TEST(Anchors, CentredOnCellsWithRequestedAreasAndRatios) {
  const auto a = level_anchors(2, 3, 8, {16}, {0.5, 1, 2}, torch::kFloat);
  ASSERT_EQ(a.sizes(), (std::vector<int64_t>{18, 4}));
  // Order (y, x, anchor): anchor 4 is cell (y 0, x 1), ratio 1: centred at (12, 4), 16 x 16.
  EXPECT_TRUE(torch::allclose(a[4], torch::tensor({4.f, -4.f, 20.f, 12.f})));
  const auto w = a.select(1, 2) - a.select(1, 0), h = a.select(1, 3) - a.select(1, 1);
  EXPECT_TRUE(torch::allclose(w * h, torch::full({18}, 256.f), 1e-3));
  EXPECT_NEAR((h / w)[0].item<float>(), 0.5, 1e-5);
  EXPECT_NEAR((h / w)[2].item<float>(), 2.0, 1e-5);
}

// MMDetection's MaxIoUAssigner with gt_bboxes_ignore: candidates mostly inside an ignore region (intersection over
// their own area > ignore_iof_thr) are neither positive nor negative, and no truth may claim them as its best.
TEST(Assign, IgnoreRegionsAreNeitherPositiveNorNegative) {
  const auto gt = torch::tensor({{10.f, 10.f, 30.f, 30.f}});
  const auto ignore = torch::tensor({{50.f, 50.f, 80.f, 80.f}});
  const auto cands = torch::tensor({{10.f, 10.f, 30.f, 30.f},      // the truth itself: positive
                                    {52.f, 52.f, 70.f, 70.f},      // inside the ignore region: -3
                                    {100.f, 100.f, 120.f, 120.f},  // background: negative
                                    {45.f, 45.f, 60.f, 60.f}});    // IoF 100 / 225 < 0.5: still a negative
  const auto m = assign_boxes(gt, ignore, cands, 0.7, 0.3, true, 0.5);
  EXPECT_EQ(m[0].item<int64_t>(), 0);
  EXPECT_EQ(m[1].item<int64_t>(), -3);
  EXPECT_EQ(m[2].item<int64_t>(), -1);
  EXPECT_EQ(m[3].item<int64_t>(), -1);
  // Without the ignore region the same candidate is an ordinary negative.
  EXPECT_EQ(assign_boxes(gt, torch::Tensor(), cands, 0.7, 0.3, true, 0.5)[1].item<int64_t>(), -1);
  // A truth whose only overlapping candidate lies in an ignore region gets no low-quality positive.
  const auto gt2 = torch::tensor({{50.f, 50.f, 72.f, 72.f}});
  const auto m2 = assign_boxes(gt2, ignore, cands.slice(0, 1, 3), 0.7, 0.3, true, 0.5);
  EXPECT_EQ(m2[0].item<int64_t>(), -3);
  EXPECT_EQ(assign_boxes(gt2, torch::Tensor(), cands.slice(0, 1, 3), 0.7, 0.3, true, 0.5)[0].item<int64_t>(), 0);
  // No truth at all: everything negative except the ignored.
  const auto m3 = assign_boxes(torch::zeros({0, 4}), ignore, cands, 0.5, 0.5, false, 0.5);
  EXPECT_EQ(m3[1].item<int64_t>(), -3);
  EXPECT_EQ(m3[0].item<int64_t>(), -1);
}

TEST(Model, ForwardShapesLossesAndDetectionInterface) {
  torch::manual_seed(0);
  FasterRCNN model(tiny_config());
  auto images = torch::rand({2, 1, 64, 64});
  // The second image has no nodule but an ignore region (a sub-3 mm mark).
  std::vector<ImageTargets> targets{
      {torch::tensor({{10.f, 12.f, 30.f, 28.f}}), torch::tensor({1}, torch::kLong)},
      {torch::zeros({0, 4}), torch::zeros({0}, torch::kLong), torch::tensor({{40.f, 40.f, 52.f, 52.f}})}};
  model->train();
  auto losses = model->losses(images, targets);
  for (const char* k : {"loss", "loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg"}) {
    ASSERT_TRUE(losses.count(k)) << k;
    EXPECT_TRUE(std::isfinite(losses[k].item<double>())) << k;
  }
  losses["loss"].backward();
  int with_grad = 0;
  for (const auto& p : model->parameters()) with_grad += p.grad().defined() && p.grad().abs().sum().item<double>() > 0;
  EXPECT_GT(with_grad, 20);

  torch::NoGradGuard no_grad;
  model->eval();
  const auto out = model->detect(images);
  ASSERT_EQ(out.detections.size(), 2u);
  ASSERT_EQ(out.features.size(), 3u);
  EXPECT_EQ(out.strides, (std::vector<int64_t>{8, 16, 32}));
  EXPECT_EQ(out.features[0].sizes(), (std::vector<int64_t>{2, 16, 8, 8}));
  for (const auto& d : out.detections) {
    EXPECT_EQ(d.boxes.size(1), 4);
    EXPECT_EQ(d.roi_features.size(0), d.boxes.size(0));
    EXPECT_EQ(d.roi_features.size(1), 16);
    EXPECT_EQ(d.roi_features.size(2), 7);
    EXPECT_LE(d.boxes.size(0), 100);
  }
  // The MV2D entry: RoI features of arbitrary boxes.
  const auto rf = model->roi_features(out.features, {torch::tensor({{0.f, 0.f, 20.f, 20.f}}), torch::zeros({0, 4})});
  EXPECT_EQ(rf.sizes(), (std::vector<int64_t>{1, 16, 7, 7}));
  EXPECT_THROW(model->detect(torch::rand({1, 2, 64, 64})), core::InputError);
  EXPECT_THROW(model->losses(images, {targets[0]}), core::InputError);
}

TEST(Model, EveryTrainingEntryValidatesItsTargets) {
  // One forward pass serves losses() and losses_and_detections() (the MV2D entry): both must refuse labels outside
  // 1..num_classes and mis-shaped boxes (losses_and_detections checked only the count before).
  FasterRCNN model(tiny_config());
  model->train();
  const auto images = torch::rand({1, 1, 64, 64});
  const std::vector<ImageTargets> bad_label{
      {torch::tensor({{10.f, 12.f, 30.f, 28.f}}), torch::tensor({0}, torch::kLong)}};
  const std::vector<ImageTargets> bad_boxes{{torch::zeros({1, 3}), torch::tensor({1}, torch::kLong)}};
  for (const auto* t : {&bad_label, &bad_boxes}) {
    EXPECT_THROW(model->losses(images, *t), core::InputError);
    EXPECT_THROW(model->losses_and_detections(images, *t), core::InputError);
  }
}

TEST(Weights, SafetensorsLoadByNameWithReportAndTorchScriptIsRefused) {
  torch::manual_seed(1);
  FasterRCNN a(tiny_config()), b(tiny_config());
  const auto dir = xraylift::testing::scratch_dir("detect2d_weights");
  std::map<std::string, torch::Tensor> state;
  for (const auto& p : a->named_parameters()) state[p.key()] = p.value();
  for (const auto& p : a->named_buffers()) state[p.key()] = p.value();
  state.erase("roi_heads.box_head.fc7.weight");
  state["extra.thing"] = torch::ones({2});
  state["rpn.head.cls_logits.bias"] = torch::zeros({99});
  write_safetensors(dir / "w.safetensors", state);
  const auto report = load_weights(*b, dir / "w.safetensors");
  EXPECT_EQ(report.missing, (std::vector<std::string>{"roi_heads.box_head.fc7.weight"}));
  EXPECT_EQ(report.unexpected, (std::vector<std::string>{"extra.thing"}));
  ASSERT_EQ(report.mismatched.size(), 1u);
  EXPECT_NE(report.mismatched[0].find("rpn.head.cls_logits.bias"), std::string::npos);
  EXPECT_TRUE(torch::equal(b->named_parameters()["backbone.body.conv1.weight"],
                           a->named_parameters()["backbone.body.conv1.weight"]));
  EXPECT_FALSE(torch::equal(b->named_parameters()["roi_heads.box_head.fc7.weight"],
                            a->named_parameters()["roi_heads.box_head.fc7.weight"]));

  // A TorchScript / libtorch archive (torch::save of the module: what `train` wrote as model.pt before) is
  // refused, naming the file and the converter, and the model is left as it was. Catches a reader that hands
  // such a file to libtorch, which compiles the code it carries.
  FasterRCNN c(tiny_config());
  torch::save(a, (dir / "w.pt").string());
  const auto before = c->named_parameters()["backbone.body.conv1.weight"].clone();
  try {
    load_weights(*c, dir / "w.pt");
    ADD_FAILURE() << "expected an InputError";
  } catch (const core::InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find((dir / "w.pt").string() + " is a TorchScript / libtorch archive"), std::string::npos)
        << message;
    EXPECT_NE(message.find("scripts/convert_weights.py"), std::string::npos) << message;
  }
  EXPECT_TRUE(torch::equal(c->named_parameters()["backbone.body.conv1.weight"], before));

  core::write_file_atomic(dir / "junk.bin", "not a weight file");
  EXPECT_THROW(read_state_dict(dir / "junk.bin"), core::InputError);
}

// Catches the weight reader trusting the storage sizes a torch.save pickle declares: the fuzz loop's file declares
// 16 bytes for a storage whose zip record holds 0, and reading the tensor (what load_state_dict's copy does) ran
// past the buffer (SEGV) before read_state_dict gave each storage its record's real size and checked every tensor
// against it (docs/RELIABILITY.md "Fuzzing the file readers").
TEST(Weights, TorchSaveFileWithARecordShorterThanItsStorageIsAnInputError) {
  const auto dir = xraylift::testing::scratch_dir("detect2d_weights_pickle");
  // The same file intact (C++'s torch::pickle_save writes Python's torch.save zip) reads back whole.
  c10::Dict<std::string, torch::Tensor> dict;
  dict.insert("w", torch::arange(6, torch::kFloat).reshape({2, 3}));
  const auto bytes = torch::pickle_save(dict);
  core::write_file_atomic(dir / "state.pt", std::string(bytes.begin(), bytes.end()));
  const auto state = read_state_dict(dir / "state.pt");
  ASSERT_EQ(state.count("w"), 1u);
  EXPECT_TRUE(torch::equal(state.at("w"), torch::arange(6, torch::kFloat).reshape({2, 3})));

  const auto bad =
      xraylift::testing::source_dir() / "tests/fuzz/corpus/torch_weights/crash-record-shorter-than-storage";
  try {
    read_state_dict(bad);
    ADD_FAILURE() << "expected an InputError";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("needs 16 bytes but its data holds 0"), std::string::npos) << e.what();
  }
}
