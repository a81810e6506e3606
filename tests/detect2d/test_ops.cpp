// RoIAlign and NMS against brute-force references (values and gradients), edge cases and CPU-vs-CUDA.
#include <ATen/core/dispatch/Dispatcher.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <vector>

#include "xraylift/core/box.hpp"
#include "xraylift/core/device.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/detect2d/bilinear.hpp"
#include "xraylift/detect2d/nms_mask.hpp"
#include "xraylift/detect2d/ops.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
using detect2d::RoIAlignOptions;

namespace {

// Brute force: the bilinear value at (y, x) is sum_p tent(y - p_y) tent(x - p_x) f(p) over every cell p, after the
// documented border rule (more than one cell outside -> 0, else clamp into [0, size - 1]). Builds the dense weight
// matrix [K * ph * pw, H * W] of one image so output = W f and grad_f = W^T grad (tested through autograd).
torch::Tensor reference_weights(const torch::Tensor& rois, int64_t H, int64_t W, const RoIAlignOptions& o) {
  const int64_t K = rois.size(0);
  auto weights = torch::zeros({K * o.pooled_height * o.pooled_width, H * W}, torch::kDouble);
  auto acc = weights.accessor<double, 2>();
  auto r = rois.to(torch::kDouble).contiguous();
  auto ra = r.accessor<double, 2>();
  for (int64_t k = 0; k < K; ++k) {
    const double off = o.aligned ? 0.5 : 0.0;
    const double x0 = ra[k][1] * o.spatial_scale - off, y0 = ra[k][2] * o.spatial_scale - off;
    const double rw = ra[k][3] * o.spatial_scale - off - x0, rh = ra[k][4] * o.spatial_scale - off - y0;
    const int64_t gh = o.sampling_ratio > 0 ? o.sampling_ratio : std::max<int64_t>(1, std::ceil(rh / o.pooled_height));
    const int64_t gw = o.sampling_ratio > 0 ? o.sampling_ratio : std::max<int64_t>(1, std::ceil(rw / o.pooled_width));
    for (int64_t ph = 0; ph < o.pooled_height; ++ph)
      for (int64_t pw = 0; pw < o.pooled_width; ++pw) {
        const int64_t row = (k * o.pooled_height + ph) * o.pooled_width + pw;
        for (int64_t iy = 0; iy < gh; ++iy)
          for (int64_t ix = 0; ix < gw; ++ix) {
            double y = y0 + (ph + (iy + 0.5) / gh) * rh / o.pooled_height;
            double x = x0 + (pw + (ix + 0.5) / gw) * rw / o.pooled_width;
            if (y < -1 || y > H || x < -1 || x > W) continue;
            y = std::clamp(y, 0.0, double(H - 1));
            x = std::clamp(x, 0.0, double(W - 1));
            for (int64_t py = 0; py < H; ++py)
              for (int64_t px = 0; px < W; ++px) {
                const double w = std::max(0.0, 1 - std::abs(y - py)) * std::max(0.0, 1 - std::abs(x - px));
                acc[row][py * W + px] += w / double(gh * gw);
              }
          }
      }
  }
  return weights;
}

torch::Tensor random_rois(int64_t K, double max_x, double max_y, torch::Generator& gen) {
  auto a = torch::rand({K, 2}, gen, torch::kDouble) * torch::tensor({max_x, max_y}, torch::kDouble) * 1.2 - 0.1 * max_x;
  auto wh = torch::rand({K, 2}, gen, torch::kDouble) * torch::tensor({max_x, max_y}, torch::kDouble) * 0.6 + 0.05;
  return torch::cat({torch::zeros({K, 1}, torch::kDouble), a, a + wh}, 1);
}

}  // namespace

TEST(RoIAlign, MatchesBruteForceValuesAndGradients) {
  auto gen = at::detail::createCPUGenerator(7);
  const int64_t C = 3, H = 11, W = 13;
  for (const double scale : {1.0, 0.5, 0.25}) {
    for (const int64_t sr : {2, 0}) {
      RoIAlignOptions o;
      o.pooled_height = 3;
      o.pooled_width = 4;
      o.spatial_scale = scale;
      o.sampling_ratio = sr;
      auto rois = random_rois(9, W / scale, H / scale, gen);
      // Border boxes (beyond the map on every side) and sub-pixel boxes.
      rois = torch::cat(
          {rois, torch::tensor({{0.0, -3.0 / scale, -2.0 / scale, 2.0 / scale, 3.0 / scale},
                                {0.0, (W - 2.0) / scale, (H - 1.5) / scale, (W + 1.5) / scale, (H + 2.0) / scale},
                                {0.0, 4.3 / scale, 5.1 / scale, 4.55 / scale, 5.2 / scale},
                                {0.0, 0.0, 0.0, W / scale, H / scale}},
                               torch::kDouble)});
      auto input = torch::randn({1, C, H, W}, gen, torch::kDouble).requires_grad_(true);
      auto out = detect2d::roi_align(input, rois, o);
      const auto Wm = reference_weights(rois, H, W, o);
      auto ref_input = input.detach().clone().requires_grad_(true);
      auto ref = torch::matmul(Wm, ref_input.reshape({C, H * W}).t())  // [K*ph*pw, C]
                     .reshape({rois.size(0), o.pooled_height, o.pooled_width, C})
                     .permute({0, 3, 1, 2});
      EXPECT_TRUE(torch::allclose(out, ref, 1e-9, 1e-10))
          << "scale " << scale << " sr " << sr << " max diff " << (out - ref).abs().max().item<double>();
      auto g = torch::randn(out.sizes(), gen, torch::kDouble);
      (out * g).sum().backward();
      (ref * g).sum().backward();
      EXPECT_TRUE(torch::allclose(input.grad(), ref_input.grad(), 1e-9, 1e-10))
          << "grad max diff " << (input.grad() - ref_input.grad()).abs().max().item<double>();
    }
  }
}

TEST(RoIAlign, Float32MatchesFloat64AndBatchIndexSelectsImage) {
  auto gen = at::detail::createCPUGenerator(3);
  auto input = torch::randn({2, 4, 16, 16}, gen, torch::kDouble);
  auto rois = random_rois(6, 16, 16, gen);
  rois.select(1, 0).copy_(torch::tensor({0, 1, 1, 0, 1, 0}, torch::kDouble));
  RoIAlignOptions o;
  const auto out64 = detect2d::roi_align(input, rois, o);
  const auto out32 = detect2d::roi_align(input.to(torch::kFloat), rois.to(torch::kFloat), o);
  EXPECT_TRUE(torch::allclose(out32.to(torch::kDouble), out64, 1e-4, 1e-5));
  // RoIs on image 1 equal the same RoIs pooled from a single-image batch.
  auto r1 = rois.index({torch::tensor({1, 2, 4})}).clone();
  r1.select(1, 0).zero_();
  const auto single = detect2d::roi_align(input.slice(0, 1, 2), r1, o);
  EXPECT_TRUE(torch::allclose(single, out64.index({torch::tensor({1, 2, 4})})));
}

TEST(RoIAlign, ConstantImageGivesConstantInsideAndEmptyInputWorks) {
  auto input = torch::full({1, 2, 8, 8}, 3.0);
  RoIAlignOptions o;
  const auto out = detect2d::roi_align(input, torch::tensor({{0.0f, 1.0f, 1.0f, 6.5f, 7.0f}}), o);
  EXPECT_TRUE(torch::allclose(out, torch::full_like(out, 3.0)));
  const auto empty = detect2d::roi_align(input, torch::zeros({0, 5}), o);
  EXPECT_EQ(empty.sizes(), (std::vector<int64_t>{0, 2, 7, 7}));
  auto grad_in = detect2d::roi_align_backward(torch::zeros({0, 2, 7, 7}), torch::zeros({0, 5}), o, 1, 2, 8, 8);
  EXPECT_EQ(grad_in.sizes(), input.sizes());
}

TEST(RoIAlign, RejectsBadInput) {
  RoIAlignOptions o;
  auto input = torch::zeros({1, 2, 8, 8});
  EXPECT_THROW(detect2d::roi_align(torch::zeros({2, 8, 8}), torch::zeros({1, 5}), o), core::InputError);
  EXPECT_THROW(detect2d::roi_align(input, torch::zeros({1, 4}), o), core::InputError);
  EXPECT_THROW(detect2d::roi_align(input, torch::tensor({{1.0f, 0.f, 0.f, 2.f, 2.f}}), o), core::InputError);
  o.pooled_height = 0;
  EXPECT_THROW(detect2d::roi_align(input, torch::zeros({1, 5}), o), core::InputError);
}

TEST(MultiLevelRoIAlign, AssignsLevelsAndPoolsFromThem) {
  const std::vector<int64_t> strides{8, 16, 32, 64, 128};
  const auto boxes = torch::tensor(
      {{0.f, 0.f, 10.f, 10.f}, {0.f, 0.f, 224.f, 224.f}, {0.f, 0.f, 112.f, 112.f}, {0.f, 0.f, 2000.f, 2000.f}});
  const auto lv = detect2d::assign_fpn_levels(boxes, strides);
  EXPECT_EQ(lv[0].item<int64_t>(), 0);  // tiny -> finest
  EXPECT_EQ(lv[1].item<int64_t>(), 1);  // canonical 224 -> level 4 = stride 16 -> index 1
  EXPECT_EQ(lv[2].item<int64_t>(), 0);
  EXPECT_EQ(lv[3].item<int64_t>(), 4);  // clamped to coarsest
  // Boxes inside a 1024 image; each feature map holds its level index, so the pooled value names the level.
  const auto inside = torch::tensor({{0.f, 0.f, 10.f, 10.f}, {0.f, 0.f, 224.f, 224.f}, {0.f, 0.f, 1000.f, 1000.f}});
  const auto lv_inside = detect2d::assign_fpn_levels(inside, strides);
  EXPECT_EQ(lv_inside[2].item<int64_t>(), 3);
  std::vector<torch::Tensor> feats;
  for (int i = 0; i < 5; ++i) feats.push_back(torch::full({1, 1, 1024 / strides[i], 1024 / strides[i]}, float(i)));
  const auto rois = torch::cat({torch::zeros({3, 1}), inside}, 1);
  const auto out = detect2d::multi_level_roi_align(feats, strides, rois, RoIAlignOptions{});
  for (int k = 0; k < 3; ++k)
    EXPECT_FLOAT_EQ(out[k].mean().item<float>(), float(lv_inside[k].item<int64_t>())) << "roi " << k;
}

namespace {

// O(n^2) greedy reference: repeatedly take the highest score (lowest index on ties), drop overlaps > t.
std::vector<int64_t> reference_nms(const torch::Tensor& boxes, const torch::Tensor& scores, double t) {
  const int64_t n = boxes.size(0);
  const auto bt = boxes.to(torch::kDouble).contiguous();
  const auto st = scores.to(torch::kDouble).contiguous();
  const auto b = bt.accessor<double, 2>();
  const auto s = st.accessor<double, 1>();
  std::vector<bool> alive(n, true);
  std::vector<int64_t> keep;
  while (true) {
    int64_t best = -1;
    for (int64_t i = 0; i < n; ++i)
      if (alive[i] && (best < 0 || s[i] > s[best])) best = i;
    if (best < 0) break;
    keep.push_back(best);
    alive[best] = false;
    for (int64_t j = 0; j < n; ++j) {
      if (!alive[j]) continue;
      const auto iou = core::iou(core::Box2D{b[best][0], b[best][1], b[best][2], b[best][3]},
                                 core::Box2D{b[j][0], b[j][1], b[j][2], b[j][3]});
      if (iou > t) alive[j] = false;
    }
  }
  return keep;
}

std::vector<int64_t> to_vec(const torch::Tensor& t) {
  auto c = t.to(torch::kLong).cpu().contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

torch::Tensor random_boxes(int64_t n, torch::Generator& gen) {
  auto xy = torch::rand({n, 2}, gen) * 100;
  auto wh = torch::rand({n, 2}, gen) * 30 + 1;
  return torch::cat({xy, xy + wh}, 1);
}

}  // namespace

TEST(Nms, MatchesBruteForceOnRandomBoxesWithTies) {
  auto gen = at::detail::createCPUGenerator(11);
  for (int trial = 0; trial < 20; ++trial) {
    const int64_t n = 1 + trial * 13;
    auto boxes = random_boxes(n, gen);
    // Quantised scores force many ties; duplicated boxes force IoU = 1.
    auto scores = torch::floor(torch::rand({n}, gen) * 5) / 5;
    if (n > 4) boxes.slice(0, 0, 2).copy_(boxes.slice(0, 2, 4));
    for (const double t : {0.3, 0.5, 0.7}) {
      EXPECT_EQ(to_vec(detect2d::nms(boxes, scores, t)), reference_nms(boxes, scores, t)) << "n " << n << " t " << t;
    }
  }
}

TEST(Nms, EmptyInputAndBadInput) {
  EXPECT_EQ(detect2d::nms(torch::zeros({0, 4}), torch::zeros({0}), 0.5).numel(), 0);
  EXPECT_EQ(
      detect2d::batched_nms(torch::zeros({0, 4}), torch::zeros({0}), torch::zeros({0}, torch::kLong), 0.5).numel(), 0);
  EXPECT_THROW(detect2d::nms(torch::zeros({3, 5}), torch::zeros({3}), 0.5), core::InputError);
  EXPECT_THROW(detect2d::nms(torch::zeros({3, 4}), torch::zeros({2}), 0.5), core::InputError);
  EXPECT_THROW(detect2d::batched_nms(torch::zeros({3, 4}), torch::zeros({3}), torch::zeros({3}), 0.5),
               core::InputError);
}

TEST(Nms, BatchedEqualsPerGroupNms) {
  auto gen = at::detail::createCPUGenerator(5);
  auto boxes = random_boxes(120, gen);
  auto scores = torch::rand({120}, gen);
  auto groups = torch::randint(0, 4, {120}, gen, torch::kLong);
  auto keep = to_vec(detect2d::batched_nms(boxes, scores, groups, 0.4));
  std::vector<int64_t> expected;
  for (int g = 0; g < 4; ++g) {
    const auto idx = torch::nonzero(groups == g).squeeze(1);
    for (auto i : reference_nms(boxes.index_select(0, idx), scores.index_select(0, idx), 0.4))
      expected.push_back(idx[i].item<int64_t>());
  }
  std::sort(expected.begin(), expected.end(),
            [&](int64_t a, int64_t b) { return scores[a].item<float>() > scores[b].item<float>(); });
  EXPECT_EQ(keep, expected);
}

// The ops are registered with libtorch's dispatcher, one kernel per dispatch key (detect2d/ops/), so any
// dispatcher caller (and TorchScript) gets the same kernels as the C++ entries.
TEST(OpsRegistry, EveryOpHasItsKernelsPerDispatchKey) {
  auto& dispatcher = c10::Dispatcher::singleton();
  struct Expected {
    const char* name;
    bool autograd, autocast;
  };
  for (const Expected e :
       {Expected{"xraylift::roi_align", true, true}, Expected{"xraylift::_roi_align_backward", true, false},
        Expected{"xraylift::nms", false, true}}) {
    const auto op = dispatcher.findSchema({e.name, ""});
    ASSERT_TRUE(op.has_value()) << e.name << " is not registered";
    EXPECT_TRUE(op->hasKernelForDispatchKey(c10::DispatchKey::CPU)) << e.name;
    EXPECT_EQ(op->hasKernelForDispatchKey(c10::DispatchKey::Autograd), e.autograd) << e.name;
    EXPECT_EQ(op->hasKernelForDispatchKey(c10::DispatchKey::AutocastCUDA), e.autocast) << e.name;
#ifdef XRAYLIFT_WITH_CUDA
    EXPECT_TRUE(op->hasKernelForDispatchKey(c10::DispatchKey::CUDA)) << e.name;
#else
    EXPECT_FALSE(op->hasKernelForDispatchKey(c10::DispatchKey::CUDA)) << e.name;
#endif
  }
  // Called through the dispatcher by name, the op gives what the C++ entry gives.
  torch::manual_seed(3);
  const auto input = torch::rand({1, 2, 9, 11});
  const auto rois = torch::tensor({{0.f, 1.f, 1.5f, 30.f, 20.f}});
  detect2d::RoIAlignOptions o;
  o.spatial_scale = 0.25;
  const auto op = dispatcher.findSchemaOrThrow("xraylift::roi_align", "")
                      .typed<at::Tensor(const at::Tensor&, const at::Tensor&, double, std::int64_t, std::int64_t,
                                        std::int64_t, bool)>();
  const auto by_name = op.call(input, rois, 0.25, 7, 7, 2, true);
  EXPECT_TRUE(torch::equal(by_name, detect2d::roi_align(input, rois, o)));
}

TEST(OpsCuda, MatchesCpu) {
  XL_REQUIRE_CUDA();
  auto gen = at::detail::createCPUGenerator(9);
  auto input = torch::randn({2, 8, 32, 40}, gen);
  auto rois = random_rois(50, 40 * 4, 32 * 4, gen).to(torch::kFloat);
  rois.select(1, 0).copy_(torch::randint(0, 2, {50}, gen).to(torch::kFloat));
  RoIAlignOptions o;
  o.spatial_scale = 0.25;
  const auto cpu = detect2d::roi_align_forward(input, rois, o);
  const auto gpu = detect2d::roi_align_forward(input.cuda(), rois.cuda(), o).cpu();
  EXPECT_TRUE(torch::allclose(cpu, gpu, 1e-4, 1e-5));
  auto g = torch::randn(cpu.sizes(), gen);
  const auto gcpu = detect2d::roi_align_backward(g, rois, o, 2, 8, 32, 40);
  const auto ggpu = detect2d::roi_align_backward(g.cuda(), rois.cuda(), o, 2, 8, 32, 40).cpu();
  EXPECT_TRUE(torch::allclose(gcpu, ggpu, 1e-4, 1e-4));
  // Reduced precision: the CPU runs on the same quantized inputs (half / bf16 values widened to float), so only
  // the GPU's output rounding (and, backward, its half/bf16 atomics) separates the two. Stated tolerances: forward
  // 2 ulp of the dtype relative to |value| + 1e-3; backward 64 ulp of the CPU's sum of |contributions| + 1e-3.
  for (auto dtype : {torch::kHalf, torch::kBFloat16}) {
    const double ulp = dtype == torch::kHalf ? std::ldexp(1.0, -10) : std::ldexp(1.0, -7);
    const auto in_q = input.to(dtype), rois_q = rois.to(dtype);
    const auto ref = detect2d::roi_align_forward(in_q.to(torch::kFloat), rois_q.to(torch::kFloat), o);
    const auto low = detect2d::roi_align_forward(in_q.cuda(), rois_q.cuda(), o).cpu().to(torch::kFloat);
    EXPECT_TRUE(((low - ref).abs() <= 2 * ulp * ref.abs() + 1e-3).all().item<bool>()) << dtype;
    const auto g_q = g.to(dtype);
    const auto gref = detect2d::roi_align_backward(g_q.to(torch::kFloat), rois_q.to(torch::kFloat), o, 2, 8, 32, 40);
    const auto gabs =
        detect2d::roi_align_backward(g_q.to(torch::kFloat).abs(), rois_q.to(torch::kFloat), o, 2, 8, 32, 40);
    const auto glow = detect2d::roi_align_backward(g_q.cuda(), rois_q.cuda(), o, 2, 8, 32, 40).cpu().to(torch::kFloat);
    EXPECT_TRUE(((glow - gref).abs() <= 64 * ulp * gabs + 1e-3).all().item<bool>()) << dtype;
  }
  // Out-of-range batch indices are not checked on the host for CUDA tensors (that would synchronise): the kernels
  // skip such RoIs (zero output, no gradient).
  auto stray = rois.clone();
  stray[0][0] = 7;
  const auto skipped = detect2d::roi_align_forward(input.cuda(), stray.cuda(), o).cpu();
  EXPECT_EQ(skipped[0].abs().max().item<float>(), 0.0f);
  EXPECT_TRUE(torch::allclose(skipped.slice(0, 1), cpu.slice(0, 1), 1e-4, 1e-5));
  auto boxes = random_boxes(3000, gen);
  auto scores = torch::rand({3000}, gen);
  EXPECT_EQ(to_vec(detect2d::nms(boxes, scores, 0.5)), to_vec(detect2d::nms(boxes.cuda(), scores.cuda(), 0.5)));
  // Ties and more than one 64-box block per row, and the batched form (offsets computed on the device).
  auto tied = (scores * 20).round() / 20;
  EXPECT_EQ(to_vec(detect2d::nms(boxes, tied, 0.3)), to_vec(detect2d::nms(boxes.cuda(), tied.cuda(), 0.3)));
  auto groups = torch::randint(0, 4, {3000}, gen).to(torch::kLong);
  EXPECT_EQ(to_vec(detect2d::batched_nms(boxes, scores, groups, 0.5)),
            to_vec(detect2d::batched_nms(boxes.cuda(), scores.cuda(), groups.cuda(), 0.5)));
  // Half boxes: the CPU runs on the same quantized boxes.
  const auto boxes_h = boxes.to(torch::kHalf);
  EXPECT_EQ(to_vec(detect2d::nms(boxes_h.to(torch::kFloat), scores, 0.5)),
            to_vec(detect2d::nms(boxes_h.cuda(), scores.cuda(), 0.5)));
}

// The one bilinear rule (detect2d/bilinear.hpp) against its definition: tent weights after the border rule.
TEST(Bilinear, TapsMatchTentWeightsAndTheBorderRule) {
  const int H = 5, W = 7;
  auto gen = at::detail::createCPUGenerator(4);
  const auto pts =
      torch::rand({4000, 2}, gen, torch::kDouble) * torch::tensor({H + 3.0, W + 3.0}, torch::kDouble) - 1.5;
  auto a = pts.accessor<double, 2>();
  int inside = 0;
  for (int n = 0; n < 4000; ++n) {
    const double y = a[n][0], x = a[n][1];
    detect2d::BilinearTaps<double, int> t;
    const bool ok = detect2d::bilinear_taps(H, W, y, x, t);
    ASSERT_EQ(ok, !(y < -1 || y > H || x < -1 || x > W)) << y << "," << x;
    if (!ok) continue;
    ++inside;
    const double cy = std::clamp(y, 0.0, double(H - 1)), cx = std::clamp(x, 0.0, double(W - 1));
    double want[H][W] = {}, got[H][W] = {};
    for (int py = 0; py < H; ++py)
      for (int px = 0; px < W; ++px)
        want[py][px] = std::max(0.0, 1 - std::abs(cy - py)) * std::max(0.0, 1 - std::abs(cx - px));
    got[t.y_low][t.x_low] += t.w1;
    got[t.y_low][t.x_high] += t.w2;
    got[t.y_high][t.x_low] += t.w3;
    got[t.y_high][t.x_high] += t.w4;
    for (int py = 0; py < H; ++py)
      for (int px = 0; px < W; ++px) ASSERT_NEAR(got[py][px], want[py][px], 1e-12) << y << "," << x;
  }
  EXPECT_GT(inside, 2000);  // 0.75 x 0.8 of the points fall inside the border rule's range
}

// The CUDA NMS's own code (detect2d/nms_mask.hpp: mask words and the greedy pass), run on the CPU with one
// "thread", equals the reference NMS on the same sorted boxes: several 64-box blocks, ties, duplicates.
TEST(NmsMask, BitmaskGreedyPassEqualsReferenceNms) {
  auto gen = at::detail::createCPUGenerator(21);
  for (int n : {1, 63, 64, 65, 200, 700}) {
    auto boxes = random_boxes(n, gen);
    if (n > 10) boxes.slice(0, 5, 10).copy_(boxes.slice(0, 0, 5));  // duplicates
    const auto scores = (torch::rand({n}, gen) * 10).round() / 10;  // ties
    const auto order = std::get<1>(scores.sort(/*stable=*/true, 0, /*descending=*/true));
    const auto sorted = boxes.index_select(0, order).contiguous();
    const float* b = sorted.data_ptr<float>();
    const int blocks = detect2d::nms_col_blocks(n);
    std::vector<unsigned long long> mask(static_cast<std::size_t>(n) * blocks, ~0ull);  // unwritten words poisoned
    for (int row = 0; row < blocks; ++row)
      for (int col = row; col < blocks; ++col) {
        const int col_size = std::min(n - col * detect2d::kNmsBlock, detect2d::kNmsBlock);
        for (int t = 0; t < std::min(n - row * detect2d::kNmsBlock, detect2d::kNmsBlock); ++t) {
          const int cur = row * detect2d::kNmsBlock + t;
          mask[static_cast<std::size_t>(cur) * blocks + col] = detect2d::nms_mask_word<float>(
              b + 4 * cur, b + 4 * col * detect2d::kNmsBlock, col_size, row == col ? t + 1 : 0, 0.5);
        }
      }
    std::vector<unsigned long long> removed(blocks);
    std::unique_ptr<bool[]> keep(new bool[n]());
    detect2d::nms_greedy_pass(n, mask.data(), removed.data(), keep.get(), 0, 1, [] {});
    std::vector<int64_t> got;
    for (int i = 0; i < n; ++i)
      if (keep[i]) got.push_back(order[i].item<int64_t>());
    EXPECT_EQ(got, to_vec(detect2d::nms(boxes, scores, 0.5))) << "n " << n;
  }
}
