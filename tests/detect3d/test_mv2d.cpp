#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "xraylift/core/error.hpp"
#include "xraylift/core/projection.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/data/phantom.hpp"
#include "xraylift/detect2d/case_data.hpp"
#include "xraylift/detect2d/weights.hpp"
#include "xraylift/detect3d/job.hpp"
#include "xraylift/detect3d/mv2d.hpp"
#include "xraylift/drr/render_case.hpp"
#include "xraylift/testing/phantoms.hpp"
#include "xraylift/testing/testing.hpp"
#include "xraylift/train/trainer.hpp"

using namespace xraylift;

namespace {

int64_t count(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}
int64_t linear(int64_t in, int64_t out) { return in * out + out; }

// One RoI per view: the nodule's projected box.
std::vector<torch::Tensor> projected_rois(const core::Rig& rig, const core::Box3D& nodule) {
  std::vector<torch::Tensor> rois;
  for (const auto& cam : rig) {
    const auto b = core::project_box(cam, nodule).box;
    rois.push_back(torch::tensor({{float(b.x0), float(b.y0), float(b.x1), float(b.y1)}}));
  }
  return rois;
}

detect3d::Mv2dConfig tiny_head() {
  detect3d::Mv2dConfig c;
  c.d_model = 32, c.heads = 4, c.layers = 2, c.ffn = 64, c.qg_fc = 64, c.qg_mlp = {64, 32};
  c.pe_freqs = 16, c.key_pe_depths = 8, c.key_pe_hidden = 32, c.feature_stride = 8, c.dropout = 0.0;
  return c;
}

detect2d::ModelConfig tiny_detector() {
  detect2d::ModelConfig m;
  m.depth = 18, m.base_width = 8, m.norm = "gn", m.gn_groups = 4, m.fpn_stages = {2, 3}, m.fpn_extra_levels = 0;
  m.fpn_channels = 32, m.anchor_scales = {1, 2}, m.anchor_ratios = {1.0};
  m.rpn_pre_nms_top_n_train = 200, m.rpn_pre_nms_top_n_test = 100, m.rpn_post_nms_top_n_train = 60;
  m.rpn_post_nms_top_n_test = 30, m.rpn_batch_per_image = 64, m.representation_size = 64, m.roi_batch_per_image = 32;
  m.detections_per_image = 20;
  return m;
}

}  // namespace

TEST(Mv2dHead, ParameterCountsMatchTheOfficialShapes) {
  // MV2D-S (official config, 256-channel neck): every module's count from the layer shapes of the official code.
  detect3d::Mv2dConfig c;  // defaults are the official dimensions
  detect3d::Mv2dHead head(c, 256);
  EXPECT_EQ(count(*head->input_proj), 256 * 256 + 256);
  EXPECT_EQ(count(*head->qg_conv), 256 * 256 * 9 + 256);
  EXPECT_EQ(count(*head->qg_fc), linear(256, 1024));
  EXPECT_EQ(count(*head->qg_mlp), linear(1040, 512) + linear(512, 256));
  EXPECT_EQ(count(*head->qg_center), linear(256, 3));
  EXPECT_EQ(count(*head->query_pe), linear(384, 256) + linear(256, 256));
  EXPECT_EQ(count(*head->key_pe), linear(192, 1024) + linear(1024, 256));
  const int64_t attention = 3 * 256 * 256 + 3 * 256 + linear(256, 256);  // in_proj + out_proj
  const int64_t layer = 2 * attention + linear(256, 2048) + linear(2048, 256) + 3 * 2 * 256;
  EXPECT_EQ(count(*head->decoder), 6 * layer);
  EXPECT_EQ(count(*head->cls_branch), 2 * (linear(256, 256) + 2 * 256) + linear(256, 1));
  EXPECT_EQ(count(*head->reg_branch), 2 * linear(256, 256) + linear(256, 6));
}

TEST(Mv2dHead, SineEncodingFollowsPetrOrder) {
  const auto p = torch::tensor({{0.25, 0.5, 0.75}}, torch::kFloat);
  const auto e = detect3d::sine_position_encoding(p, 4, 10000.0);
  ASSERT_EQ(e.sizes(), (torch::IntArrayRef{1, 12}));
  // Order (y, x, z); per axis (sin f0, cos f0, sin f1, cos f1) with f_i = 2 pi p / 10000^(2 floor(i/2) / 4).
  const double y = 0.5 * 2 * M_PI;
  EXPECT_NEAR(e[0][0].item<double>(), std::sin(y), 1e-6);
  EXPECT_NEAR(e[0][1].item<double>(), std::cos(y), 1e-6);
  EXPECT_NEAR(e[0][2].item<double>(), std::sin(y / 100.0), 1e-6);
  EXPECT_NEAR(e[0][3].item<double>(), std::cos(y / 100.0), 1e-6);
  EXPECT_NEAR(e[0][4].item<double>(), std::sin(0.25 * 2 * M_PI), 1e-6);
  EXPECT_NEAR(e[0][8].item<double>(), std::sin(0.75 * 2 * M_PI), 1e-6);
}

TEST(Mv2dHead, ReferenceStartsAtTheRoiCentreAtTheIsocentreDepth) {
  torch::manual_seed(1);
  const core::Rig rig = core::Rig::ring(core::RingSpec{}).with_detector_width(128);
  detect3d::Mv2dHead head(tiny_head(), 32);
  head->eval();
  const core::Box3D nodule{Eigen::Vector3d(30, -20, 40), Eigen::Vector3d(15, 15, 15)};
  const auto rois = projected_rois(rig, nodule);
  const auto features = torch::randn({10, 32, 16, 16});
  torch::NoGradGuard g;
  const auto out = head->forward(features, 8, rig.cameras(), rois);
  ASSERT_EQ(out.reference.size(0), 10);
  ASSERT_EQ(out.logits.size(), 2u);
  for (int v = 0; v < 10; ++v) {
    const auto b = core::project_box(rig[v], nodule).box;
    const Eigen::Vector3d expected = head->config().range.normalize(rig[v].unproject(b.center(), 300.0));
    for (int a = 0; a < 3; ++a) EXPECT_NEAR(out.reference[v][a].item<double>(), expected[a], 5.0 / 400) << v;
    // Every view's query sees this nodule's RoI in all other views.
    for (int w = 0; w < 10; ++w) EXPECT_EQ(out.correlation[v][w], w);
  }
  // Initial scores are the 0.01 prior.
  EXPECT_NEAR(torch::sigmoid(out.logits.back()).mean().item<double>(), 0.01, 0.01);
}

TEST(Mv2dHead, WithTheRaysDepthPriorTheReferenceStartsAtTheNodule) {
  // The same nodule with depth_prior: rays: before any training the reference is the nodule's centre (the RoI
  // centre ray at the depth where the ten views' rays meet), not a point at the isocentre's depth.
  torch::manual_seed(1);
  const core::Rig rig = core::Rig::ring(core::RingSpec{}).with_detector_width(128);
  auto config = tiny_head();
  config.depth_prior = "rays";
  detect3d::Mv2dHead head(config, 32);
  head->eval();
  const core::Box3D nodule{Eigen::Vector3d(30, -20, 40), Eigen::Vector3d(15, 15, 15)};
  const auto rois = projected_rois(rig, nodule);
  torch::NoGradGuard g;
  const auto out = head->forward(torch::randn({10, 32, 16, 16}), 8, rig.cameras(), rois);
  const Eigen::Vector3d expected = head->config().range.normalize(nodule.center);
  for (int v = 0; v < 10; ++v)
    for (int a = 0; a < 3; ++a)
      EXPECT_NEAR(out.reference[v][a].item<double>(), expected[a], 3.0 / 400) << "view " << v << " axis " << a;
}

TEST(Mv2dHead, MatchingRecoversAPermutationOfTheTruth) {
  // Queries that are a permutation of the truth (plus low-scored extras) cost nothing to regress once matched;
  // a matcher that pairs them wrongly would leave a large L1 term.
  detect3d::Mv2dHead head(tiny_head(), 32);
  const auto& c = head->config();
  const auto truth = torch::tensor(
      {{10.0, -20.0, 30.0, 8.0, 9.0, 10.0}, {-50.0, 40.0, -10.0, 20.0, 18.0, 16.0}, {70.0, 0.0, 60.0, 5.0, 5.0, 6.0}},
      torch::kDouble);
  const std::vector<int> perm = {2, 0, 1};
  detect3d::Mv2dHeadOutput out;
  auto centers = torch::full({5, 3}, 0.5f), sizes = torch::zeros({5, 3}), logits = torch::full({5}, -6.0f);
  for (int q = 0; q < 3; ++q) {
    const auto t = truth[perm[q]];
    for (int a = 0; a < 3; ++a) {
      centers[q][a] = float((t[a].item<double>() - c.range.min_mm[a]) / (c.range.max_mm[a] - c.range.min_mm[a]));
      sizes[q][a] = float(std::log(t[3 + a].item<double>()));
    }
    logits[q] = 6.0f;
  }
  out.reference = centers.clone();
  out.logits = {logits};
  out.centers = {centers};
  out.log_sizes = {sizes};
  const auto l = head->losses(out, truth, torch::zeros({3}, torch::kBool));
  EXPECT_LT(l.at("loss_3d_reg").item<double>(), 1e-4);
  EXPECT_LT(l.at("loss_3d_cls").item<double>(), 0.01);
  // The same queries against an ignore region: an unmatched query inside it adds no classification loss.
  const auto with_ignore = torch::cat({truth, torch::tensor({{0.0, 0.0, 0.0, 60.0, 60.0, 60.0}}, torch::kDouble)});
  auto logits2 = logits.clone();
  logits2[3] = 6.0f;  // a confident query at the range centre (0, 0, 0): inside the ignore region
  out.logits = {logits2};
  const auto ignored = head->losses(out, with_ignore, torch::tensor({false, false, false, true}));
  const auto counted = head->losses(out, truth, torch::zeros({3}, torch::kBool));
  EXPECT_LT(ignored.at("loss_3d_cls").item<double>(), 0.01);
  EXPECT_GT(counted.at("loss_3d_cls").item<double>(), 0.1);
}

TEST(Mv2dModel, HoldsExactlyTheDetectorsTensorsAndTheHeads) {
  // Catches a detector child left unregistered (it would be neither trained nor saved): the model's tensors must be
  // the detector's, under the same names, plus head3d's.
  detect3d::Mv2dModel model(tiny_detector(), tiny_head());
  std::set<std::string> expected, got;
  for (const auto& p : model->detector->named_parameters()) expected.insert(p.key());
  for (const auto& b : model->detector->named_buffers()) expected.insert(b.key());
  for (const auto& p : model->head3d->named_parameters()) expected.insert("head3d." + p.key());
  for (const auto& b : model->head3d->named_buffers()) expected.insert("head3d." + b.key());
  for (const auto& p : model->named_parameters()) got.insert(p.key());
  for (const auto& b : model->named_buffers()) got.insert(b.key());
  EXPECT_EQ(got, expected);
  EXPECT_GT(got.size(), 50u);
}

TEST(Mv2dModel, OverfitsOnePhantomCaseOnTheCpu) {
  // One phantom with three nodules, ten 128 px views, the truth's 2D boxes as RoIs (the head's part of MV2D, with the
  // backbone trained too): every query must learn its nodule's 3D centre and size, and the scores must rank the
  // nodules' queries above queries of empty regions. The seed's prototype never left the range's edge.
  const auto dir = xraylift::testing::scratch_dir("mv2d_overfit");
  const auto phantom = xraylift::testing::make_phantom(4, {96, 96, 64}, {3.2, 3.2, 4.0}, 3, 14, 22, false);
  const core::Rig rig = core::Rig::ring(core::RingSpec{}).with_detector_width(128);
  drr::render_case(phantom.ct, rig, drr::RenderOptions{}, {}, dir / "views");
  detect2d::CaseDataset dataset(std::vector<std::filesystem::path>{dir / "views"});
  const auto in = detect2d::case_inputs(dataset.get(0), torch::kCPU);
  torch::manual_seed(3);
  auto head = tiny_head();
  head.match_mode = "iou2d";  // one positive per view and nodule: every query learns (docs/detect3d.md)
  detect3d::Mv2dModel model(tiny_detector(), head);
  // RoIs: every nodule's box in every view, plus two empty boxes per view (negatives).
  std::vector<torch::Tensor> rois;
  std::vector<int> nodule_of;  // per query: the nodule index or -1
  for (int v = 0; v < 10; ++v) {
    std::vector<float> flat;
    for (std::size_t n = 0; n < phantom.ct.nodules.size(); ++n) {
      const auto b = core::project_box(in.cameras[v], phantom.ct.nodules[n].box).box;
      flat.insert(flat.end(), {float(b.x0), float(b.y0), float(b.x1), float(b.y1)});
      nodule_of.push_back(int(n));
    }
    flat.insert(flat.end(), {4.f, 4.f, 14.f, 14.f, 110.f, 112.f, 122.f, 124.f});
    nodule_of.insert(nodule_of.end(), {-1, -1});
    rois.push_back(torch::from_blob(flat.data(), {int64_t(flat.size() / 4), 4}, torch::kFloat).clone());
  }
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(2e-3).weight_decay(1e-4));
  const int64_t level = model->feature_level();
  double first = 0, last = 0;
  const int steps = 200;
  for (int step = 0; step < steps; ++step) {
    const auto feats = model->detector->features(in.images);
    const auto out = model->head3d->forward(feats[level], model->detector->config().strides()[level], in.cameras, rois);
    const auto l = model->head3d->losses(out, in.truth_3d, in.ignore_3d);
    const auto loss = l.at("loss_3d_cls") + l.at("loss_3d_reg");
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (step == 0) first = l.at("loss_3d_reg").item<double>();
    last = l.at("loss_3d_reg").item<double>();
  }
  EXPECT_LT(last, 0.3 * first);
  model->eval();
  torch::NoGradGuard g;
  const auto feats = model->detector->features(in.images);
  const auto out = model->head3d->forward(feats[level], model->detector->config().strides()[level], in.cameras, rois);
  const auto& c = model->head3d->config();
  const auto centres = out.centers.back(), scores = torch::sigmoid(out.logits.back());
  double worst_nodule_score = 1, best_empty_score = 0;
  int near = 0, total = 0;
  for (std::size_t q = 0; q < nodule_of.size(); ++q) {
    if (nodule_of[q] < 0) {
      best_empty_score = std::max(best_empty_score, scores[q].item<double>());
      continue;
    }
    const auto& truth = phantom.ct.nodules[nodule_of[q]];
    const Eigen::Vector3d p = c.range.denormalize(
        Eigen::Vector3d(centres[q][0].item<double>(), centres[q][1].item<double>(), centres[q][2].item<double>()));
    ++total;
    near += (p - truth.box.center).norm() < 0.25 * truth.diameter();
    worst_nodule_score = std::min(worst_nodule_score, scores[q].item<double>());
  }
  // 0.8: 25 of 30 on the 2026-12-02 VM, 27 or more on earlier ones (the same seed and data; float sums differ by CPU);
  // a head that does not learn the geometry gets a handful.
  EXPECT_GE(near, 0.8 * total) << near << " of " << total << " queries within a quarter diameter of their nodule";
  EXPECT_GT(worst_nodule_score, best_empty_score);
}

TEST(Mv2dHead, TheDetect2dProposalPathIsUnchangedByTheProposalSources) {
  // Pins the official path (proposals.sources: [detect2d], the default): a seeded head on fixed features and RoIs
  // gives the outputs recorded before the fused-candidate source was added (main at 70bbffd). Catches any change
  // of the default path's queries, references, keys or heads (e.g. the candidate anchors leaking into 2D queries).
  torch::manual_seed(7);
  const core::Rig rig = core::Rig::ring(core::RingSpec{}).with_detector_width(128);
  auto config = tiny_head();
  config.depth_prior = "rays";
  detect3d::Mv2dHead head(config, 32);
  head->eval();
  std::vector<torch::Tensor> rois;
  const core::Box3D a{Eigen::Vector3d(30, -20, 40), Eigen::Vector3d(15, 15, 15)};
  const core::Box3D b{Eigen::Vector3d(-40, 10, -30), Eigen::Vector3d(10, 12, 9)};
  for (const auto& cam : rig) {
    const auto pa = core::project_box(cam, a).box, pb = core::project_box(cam, b).box;
    rois.push_back(torch::tensor({{float(pa.x0), float(pa.y0), float(pa.x1), float(pa.y1)},
                                  {float(pb.x0), float(pb.y0), float(pb.x1), float(pb.y1)},
                                  {5.f, 6.f, 20.f, 24.f}}));
  }
  const auto features = torch::randn({10, 32, 16, 16});
  torch::NoGradGuard g;
  const auto out = head->forward(features, 8, rig.cameras(), rois);
  ASSERT_EQ(out.reference.size(0), 30);
  const double ref = out.reference.to(torch::kDouble).sum().item<double>();
  const double logits = out.logits.back().to(torch::kDouble).sum().item<double>();
  const double centers = out.centers.back().to(torch::kDouble).sum().item<double>();
  const double sizes = out.log_sizes.back().to(torch::kDouble).sum().item<double>();
  EXPECT_NEAR(ref, 48.5826385, 1e-4);
  EXPECT_NEAR(logits, -132.893501, 1e-3);
  EXPECT_NEAR(centers, 47.5994101, 1e-4);
  EXPECT_NEAR(sizes, 206.827545, 1e-3);
}

namespace {

core::BoxRecord candidate(const Eigen::Vector3d& centre, const Eigen::Vector3d& size, double score) {
  core::BoxRecord r;
  r.source = core::BoxSource::kPrediction;
  r.box.center = centre, r.box.size = size, r.score = score;
  return r;
}

}  // namespace

TEST(Mv2dProposals, FusedCandidatesBecomeTheirProjectedBoxInEveryViewThatSeesThem) {
  // Against core::project_box view by view: catches RoIs in another view's order, an unclipped box, a candidate
  // kept in a view it is outside of, or the 2D proposals displaced from the front of their view's list.
  const core::Rig rig = core::Rig::ring(core::RingSpec{}).with_detector_width(128);
  const std::vector<core::BoxRecord> cands = {candidate({30, -20, 40}, {15, 15, 15}, 0.9),
                                              candidate({-40, 10, -30}, {10, 12, 9}, 0.5),
                                              candidate({0, 0, 900}, {10, 10, 10}, 0.4)};  // above every view
  std::vector<torch::Tensor> given(10, torch::zeros({0, 4}));
  given[3] = torch::tensor({{1.f, 2.f, 10.f, 12.f}});
  detect3d::CandidateQueries q;
  const auto rois = detect3d::add_candidate_rois(given, cands, rig.cameras(), 1.5, q);
  ASSERT_EQ(rois.size(), 10u);
  std::size_t g = 0;
  for (int v = 0; v < 10; ++v) {
    int row = 0;
    if (v == 3) {
      EXPECT_EQ(q.candidate[g++], -1);
      EXPECT_FLOAT_EQ(rois[v][0][2].item<float>(), 10.f);
      ++row;
    }
    for (int k = 0; k < 3; ++k) {
      const auto p = core::project_box(rig[v], cands[k].box);
      const bool seen = p.visible && p.box.width() >= 1.5 && p.box.height() >= 1.5;
      if (k == 2) EXPECT_FALSE(seen) << "view " << v;
      if (!seen) continue;
      ASSERT_LT(g, q.candidate.size());
      EXPECT_EQ(q.candidate[g++], k) << "view " << v;
      EXPECT_NEAR(rois[v][row][0].item<double>(), p.box.x0, 1e-4);
      EXPECT_NEAR(rois[v][row][1].item<double>(), p.box.y0, 1e-4);
      EXPECT_NEAR(rois[v][row][2].item<double>(), p.box.x1, 1e-4);
      EXPECT_NEAR(rois[v][row][3].item<double>(), p.box.y1, 1e-4);
      ++row;
    }
    EXPECT_EQ(rois[v].size(0), row) << "view " << v;
  }
  EXPECT_EQ(g, q.candidate.size());
  EXPECT_EQ(q.candidates.size(), 3u);
}

TEST(Mv2dProposals, SelectCandidatesKeepsTheBestAndAppendsMissedTruthInTraining) {
  // Catches a threshold or top_k not applied, truth appended at inference, or truth appended next to a candidate.
  detect3d::Mv2dConfig c;
  c.fusion_top_k = 2, c.fusion_score_threshold = 0.3, c.fusion_gt_append_mm = 10;
  const std::vector<core::BoxRecord> found = {
      candidate({0, 0, 0}, {8, 8, 8}, 0.9), candidate({50, 0, 0}, {8, 8, 8}, 0.2),    // below the threshold
      candidate({0, 50, 0}, {8, 8, 8}, 0.8), candidate({0, 0, 50}, {8, 8, 8}, 0.7)};  // beyond top_k
  const auto truth = torch::tensor({{3.0, 0.0, 0.0, 9.0, 9.0, 9.0},     // 3 mm from candidate 0: not appended
                                    {0.0, 0.0, 50.0, 7.0, 7.0, 7.0},    // missed (its candidate was cut)
                                    {-60.0, 0.0, 0.0, 7.0, 7.0, 7.0}},  // ignore region: never appended
                                   torch::kDouble);
  const auto ignore = torch::tensor({false, false, true});
  const auto test = detect3d::select_candidates(found, truth, ignore, c, false);
  ASSERT_EQ(test.size(), 2u);
  EXPECT_DOUBLE_EQ(test[0].score, 0.9);
  EXPECT_DOUBLE_EQ(test[1].score, 0.8);
  const auto train = detect3d::select_candidates(found, truth, ignore, c, true);
  ASSERT_EQ(train.size(), 3u);
  EXPECT_NEAR((train[2].box.center - Eigen::Vector3d(0, 0, 50)).norm(), 0, 1e-9);
  EXPECT_NEAR(train[2].box.size.x(), 7, 1e-9);
}

TEST(Mv2dHead, AFusedQueryStartsAtItsCandidatesCentreAndKeysOnItsOwnRois) {
  // The reference of a fused query starts at the candidate's 3D centre in every view (not on the RoI ray at a
  // prior depth: the candidate is off the centre of its clipped, truncated box in none of these views, but its
  // depth differs from the isocentre's by 50-70 mm), and its keys are the candidate's RoIs in the other views. A 2D
  // query in the same pass keeps MV2D's frustum correlation. Catches the ray-derived reference for fused queries
  // and keys taken from another candidate's RoIs.
  torch::manual_seed(5);
  const core::Rig rig = core::Rig::ring(core::RingSpec{}).with_detector_width(128);
  detect3d::Mv2dHead head(tiny_head(), 32);
  head->eval();
  {
    torch::NoGradGuard g;
    head->qg_center->weight.zero_();  // the generator's initial output exactly: (mid, mid, 0)
  }
  const std::vector<core::BoxRecord> cands = {candidate({30, -20, 40}, {15, 15, 15}, 0.9),
                                              candidate({-40, 10, -30}, {10, 12, 9}, 0.5)};
  std::vector<torch::Tensor> given(10, torch::zeros({0, 4}));
  given[0] = torch::tensor({{20.f, 20.f, 40.f, 40.f}});  // one 2D proposal in view 0
  detect3d::CandidateQueries q;
  const auto rois = detect3d::add_candidate_rois(given, cands, rig.cameras(), 1.5, q);
  torch::NoGradGuard g;
  const auto out = head->forward(torch::randn({10, 32, 16, 16}), 8, rig.cameras(), rois, &q);
  ASSERT_EQ(out.reference.size(0), static_cast<int64_t>(q.candidate.size()));
  ASSERT_TRUE(out.prior_score.defined());
  EXPECT_FLOAT_EQ(out.prior_score[0].item<float>(), -1.f);
  int fused = 0;
  for (std::size_t i = 0; i < q.candidate.size(); ++i) {
    const int k = q.candidate[i];
    if (k < 0) continue;
    ++fused;
    const Eigen::Vector3d expected = head->config().range.normalize(cands[k].box.center);
    for (int a = 0; a < 3; ++a) EXPECT_NEAR(out.reference[i][a].item<double>(), expected[a], 1e-4) << i;
    EXPECT_FLOAT_EQ(out.prior_score[i].item<float>(), float(cands[k].score));
    const int64_t view = out.query_view[i].item<int64_t>();
    for (int w = 0; w < 10; ++w) {
      const int key = out.correlation[i][w];
      if (w == view) EXPECT_EQ(key, int(i));
      if (key >= 0) EXPECT_EQ(q.candidate[key], k) << "query " << i << " view " << w;
    }
  }
  EXPECT_EQ(fused, 20);  // both candidates in all ten views
}
