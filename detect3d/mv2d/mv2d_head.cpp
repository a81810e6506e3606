// The MV2D head's modules and forward pass (docs/detect3d.md "MV2D head").
#include <cmath>
#include <map>

#include "xraylift/core/error.hpp"
#include "xraylift/detect2d/case_data.hpp"
#include "xraylift/detect2d/ops.hpp"
#include "xraylift/detect3d/mv2d.hpp"
#include "xraylift/detect3d/mv2d_geometry.hpp"

namespace xraylift::detect3d {

namespace {

// Post-norm transformer decoder layer (DETR / MV2D order: self-attention, norm, cross-attention, norm, FFN, norm).
class DecoderLayerImpl : public torch::nn::Module {
 public:
  DecoderLayerImpl(int d, int heads, int ffn, double dropout) {
    using torch::nn::MultiheadAttentionOptions;
    self_attn = register_module("self_attn",
                                torch::nn::MultiheadAttention(MultiheadAttentionOptions(d, heads).dropout(dropout)));
    cross_attn = register_module("cross_attn",
                                 torch::nn::MultiheadAttention(MultiheadAttentionOptions(d, heads).dropout(dropout)));
    linear1 = register_module("linear1", torch::nn::Linear(d, ffn));
    linear2 = register_module("linear2", torch::nn::Linear(ffn, d));
    norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    norm3 = register_module("norm3", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    drop = register_module("drop", torch::nn::Dropout(dropout));
  }

  // tgt, query_pos [Q, d]; keys, key_pos [S, Q, d] (each query its own key set); key_mask [Q, S] (true = absent).
  torch::Tensor forward(torch::Tensor tgt, const torch::Tensor& query_pos, const torch::Tensor& keys,
                        const torch::Tensor& key_pos, const torch::Tensor& key_mask) {
    const auto q = (tgt + query_pos).unsqueeze(1);  // [Q, 1, d]: one sequence of all the case's queries
    auto sa = std::get<0>(self_attn->forward(q, q, tgt.unsqueeze(1), {}, false)).squeeze(1);
    tgt = norm1(tgt + drop(sa));
    const auto cq = (tgt + query_pos).unsqueeze(0);  // [1, Q, d]: each query a batch entry of length 1
    auto ca = std::get<0>(cross_attn->forward(cq, keys + key_pos, keys, key_mask, false)).squeeze(0);
    tgt = norm2(tgt + drop(ca));
    auto ff = linear2(drop(torch::relu(linear1(tgt))));
    return norm3(tgt + drop(ff));
  }

  torch::nn::MultiheadAttention self_attn{nullptr}, cross_attn{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr}, norm3{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(DecoderLayer);

struct CameraTensors {
  torch::Tensor fx, fy, cx, cy;  // [V]
  torch::Tensor R, t;            // [V, 3, 3], [V, 3]
  torch::Tensor iso_depth;       // [V] depth of the scene centre
};

// From the one camera packer (detect2d::cameras_tensor: fx, fy, cx, cy, width, height, R row-major, t).
CameraTensors camera_tensors(const std::vector<core::Camera>& cams, const SceneRange& range,
                             const torch::TensorOptions& o) {
  const auto V = static_cast<int64_t>(cams.size());
  const auto packed = detect2d::cameras_tensor(cams).to(torch::kFloat).to(o);
  const Eigen::Vector3d centre = 0.5 * (range.min_mm + range.max_mm);
  std::vector<float> iso(V);
  for (int64_t v = 0; v < V; ++v) iso[v] = float(cams[v].depth(centre));
  CameraTensors ct;
  ct.fx = packed.select(1, 0), ct.fy = packed.select(1, 1), ct.cx = packed.select(1, 2), ct.cy = packed.select(1, 3);
  ct.R = packed.slice(1, 6, 15).reshape({V, 3, 3});
  ct.t = packed.slice(1, 15, 18);
  ct.iso_depth = torch::from_blob(iso.data(), {V}, torch::TensorOptions().dtype(torch::kFloat)).clone().to(o);
  return ct;
}

// World points of pixels (u, v) at depths d through per-row cameras (index tensors select the view): [..., 3].
torch::Tensor lift(const torch::Tensor& u, const torch::Tensor& v, const torch::Tensor& d, const CameraTensors& c,
                   const torch::Tensor& view) {
  auto shape = [&](const torch::Tensor& x) {
    std::vector<int64_t> s(u.dim(), 1);
    s[0] = u.size(0);
    return x.index_select(0, view).view(s);
  };
  const auto xc = (u - shape(c.cx)) / shape(c.fx) * d;
  const auto yc = (v - shape(c.cy)) / shape(c.fy) * d;
  auto pc = torch::stack({xc, yc, d.expand_as(xc)}, -1);  // [N, ..., 3]
  std::vector<int64_t> ts(pc.dim(), 1);
  ts[0] = u.size(0), ts.back() = 3;
  pc = pc - c.t.index_select(0, view).view(ts);
  // world = R^T (p - t): as row vectors, (p - t) R.
  const auto R = c.R.index_select(0, view);  // [N, 3, 3]
  const auto flat = pc.reshape({u.size(0), -1, 3});
  return torch::bmm(flat, R).reshape(pc.sizes());
}

torch::Tensor normalize_points(const torch::Tensor& p, const SceneRange& r) {
  const auto lo = torch::tensor({r.min_mm.x(), r.min_mm.y(), r.min_mm.z()}, p.options());
  const auto hi = torch::tensor({r.max_mm.x(), r.max_mm.y(), r.max_mm.z()}, p.options());
  return (p - lo) / (hi - lo);
}

// Per RoI: the flattened RoI-rebased intrinsics x scale ([Q, 16], zeroed for tiny boxes, clamped as the official
// code) and the box geometry (x0, y0, w, h) [Q, 4].
std::pair<torch::Tensor, torch::Tensor> roi_geometry(const std::vector<std::vector<core::Box2D>>& boxes,
                                                     const std::vector<core::Camera>& cameras, const Mv2dConfig& c,
                                                     const torch::TensorOptions& opts) {
  std::vector<float> kflat, geo;
  for (std::size_t v = 0; v < boxes.size(); ++v) {
    for (const auto& b : boxes[v]) {
      const bool small = b.width() < c.min_intrinsics_box_px || b.height() < c.min_intrinsics_box_px;
      const Eigen::Matrix4d k = mv2d_roi_intrinsics(cameras[v].intrinsics(), b, c.roi_size);
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j)
          kflat.push_back(small ? 0.f : float(std::clamp(k(i, j) * c.intrinsics_scale, -5e3, 5e3)));
      geo.insert(geo.end(), {float(b.x0), float(b.y0), float(b.width()), float(b.height())});
    }
  }
  const auto Q = static_cast<int64_t>(geo.size() / 4);
  return {torch::from_blob(kflat.data(), {Q, 16}, torch::kFloat).clone().to(opts),
          torch::from_blob(geo.data(), {Q, 4}, torch::kFloat).clone().to(opts)};
}

// PETR key points: for each RoI's n x n cells, D points along the cell's ray over the view's scene depth span,
// spaced as near + (far - near) k (k + 1) / (D (D + 1)), normalized by the range: [Q, n * n, D, 3].
torch::Tensor petr_key_points(const torch::Tensor& geo, const std::vector<core::Camera>& cameras,
                              const CameraTensors& cams, const torch::Tensor& query_view, const Mv2dConfig& c) {
  const auto opts = geo.options();
  const auto V = static_cast<int64_t>(cameras.size()), Q = geo.size(0);
  const int64_t n = c.roi_size, T = n * n, D = c.key_pe_depths;
  std::vector<float> span(V * 2);
  for (int64_t v = 0; v < V; ++v) {
    const auto s = c.frustum_depth_mm.size() == 2 ? std::make_pair(c.frustum_depth_mm[0], c.frustum_depth_mm[1])
                                                  : scene_depth_span(cameras[v], c.range);
    span[v * 2] = float(s.first), span[v * 2 + 1] = float(s.second);
  }
  const auto spans = torch::from_blob(span.data(), {V, 2}, torch::kFloat).clone().to(opts).index_select(0, query_view);
  const auto cell = (torch::arange(n, opts) + 0.5) / double(n);
  const auto cu = geo.select(1, 0).unsqueeze(1) + cell.unsqueeze(0) * geo.select(1, 2).unsqueeze(1);  // [Q, n] x
  const auto cv = geo.select(1, 1).unsqueeze(1) + cell.unsqueeze(0) * geo.select(1, 3).unsqueeze(1);  // [Q, n] y
  const auto uu = cu.unsqueeze(1).expand({Q, n, n}).reshape({Q, T, 1}).expand({Q, T, D});
  const auto vv = cv.unsqueeze(2).expand({Q, n, n}).reshape({Q, T, 1}).expand({Q, T, D});
  const auto k = torch::arange(1, D + 1, opts);
  const auto frac = k * (k + 1) / double(D * (D + 1));
  const auto near = spans.select(1, 0).view({Q, 1, 1}), far = spans.select(1, 1).view({Q, 1, 1});
  const auto depth = (near + (far - near) * frac.view({1, 1, D})).expand({Q, T, D});
  return normalize_points(lift(uu, vv, depth, cams, query_view), c.range);
}

// Flat key index [Q * V] into the RoIs (0 where a view has no match) and the key padding mask [Q, V * T].
std::pair<torch::Tensor, torch::Tensor> key_index(const std::vector<std::vector<int>>& correlation, int64_t tokens,
                                                  const torch::Device& device) {
  const auto Q = static_cast<int64_t>(correlation.size());
  const auto V = Q > 0 ? static_cast<int64_t>(correlation.front().size()) : 0;
  std::vector<int64_t> idx(Q * V);
  std::vector<uint8_t> absent(Q * V);
  for (int64_t q = 0; q < Q; ++q)
    for (int64_t v = 0; v < V; ++v) {
      const int g = correlation[q][v];
      idx[q * V + v] = g < 0 ? 0 : g;
      absent[q * V + v] = g < 0;
    }
  const auto it = torch::tensor(idx, torch::TensorOptions().dtype(torch::kLong)).to(device);
  const auto mask = torch::from_blob(absent.data(), {Q, V, 1}, torch::kUInt8)
                        .clone()
                        .to(torch::kBool)
                        .expand({Q, V, tokens})
                        .reshape({Q, V * tokens})
                        .to(device);
  return {it, mask};
}

}  // namespace

torch::Tensor inverse_sigmoid(const torch::Tensor& x, double eps) {
  const auto c = x.clamp(0, 1);
  return torch::log(c.clamp_min(eps) / (1 - c).clamp_min(eps));
}

torch::Tensor sine_position_encoding(const torch::Tensor& points, int freqs, double temperature) {
  const double scale = 2 * M_PI;
  auto dim_t = torch::arange(freqs, points.options());
  dim_t = torch::pow(temperature, 2 * torch::floor_divide(dim_t, 2) / double(freqs));
  auto axis = [&](int a) {
    const auto pos = points.select(-1, a).unsqueeze(-1) * scale / dim_t;  // [N, F]
    const auto s = pos.slice(-1, 0, freqs, 2).sin(), c = pos.slice(-1, 1, freqs, 2).cos();
    return torch::stack({s, c}, -1).flatten(-2);
  };
  return torch::cat({axis(1), axis(0), axis(2)}, -1);
}

Mv2dHeadImpl::Mv2dHeadImpl(const Mv2dConfig& c, int in_channels) : config_(c) {
  config_.validate();
  const int d = c.d_model;
  input_proj = register_module("input_proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, d, 1)));
  qg_conv = register_module("qg_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(d, d, 3).padding(1)));
  qg_fc = register_module("qg_fc", torch::nn::Linear(d, c.qg_fc));
  qg_mlp = torch::nn::Sequential();
  int width = c.qg_fc + 16;
  for (int w : c.qg_mlp) {
    qg_mlp->push_back(torch::nn::Linear(width, w));
    qg_mlp->push_back(torch::nn::ReLU());
    width = w;
  }
  register_module("qg_mlp", qg_mlp);
  qg_center = register_module("qg_center", torch::nn::Linear(width, 3));
  // The reference starts at the RoI centre (grid (n-1)/2) at the prior depth (scene centre or rays), not at the source.
  torch::nn::init::normal_(qg_center->weight, 0.0, 0.001);
  {
    torch::NoGradGuard g;
    const double mid = 0.5 * (c.roi_size - 1);
    qg_center->bias.copy_(torch::tensor({mid, mid, 0.0}));
  }
  query_pe = register_module("query_pe", torch::nn::Sequential(torch::nn::Linear(3 * c.pe_freqs, d), torch::nn::ReLU(),
                                                               torch::nn::Linear(d, d)));
  key_pe = register_module("key_pe", torch::nn::Sequential(torch::nn::Linear(3 * c.key_pe_depths, c.key_pe_hidden),
                                                           torch::nn::ReLU(), torch::nn::Linear(c.key_pe_hidden, d)));
  key_pe_gate = register_module("key_pe_gate", torch::nn::Linear(d, d));
  decoder = register_module("decoder", torch::nn::ModuleList());
  for (int l = 0; l < c.layers; ++l) decoder->push_back(DecoderLayer(d, c.heads, c.ffn, c.dropout));
  using torch::nn::LayerNorm;
  using torch::nn::LayerNormOptions;
  using torch::nn::Linear;
  using torch::nn::ReLU;
  cls_branch = register_module(
      "cls_branch", torch::nn::Sequential(Linear(d, d), LayerNorm(LayerNormOptions({d})), ReLU(), Linear(d, d),
                                          LayerNorm(LayerNormOptions({d})), ReLU(), Linear(d, 1)));
  reg_branch =
      register_module("reg_branch", torch::nn::Sequential(Linear(d, d), ReLU(), Linear(d, d), ReLU(), Linear(d, 6)));
  {
    torch::NoGradGuard g;
    auto last_cls = cls_branch->ptr(6)->as<torch::nn::Linear>();
    last_cls->bias.fill_(-std::log((1 - 0.01) / 0.01));  // prior 0.01
  }
}

Mv2dHeadOutput Mv2dHeadImpl::forward(const torch::Tensor& features, std::int64_t stride,
                                     const std::vector<core::Camera>& cameras, const std::vector<torch::Tensor>& rois,
                                     const CandidateQueries* candidates) {
  const auto& c = config_;
  const auto V = static_cast<int64_t>(cameras.size());
  XL_CHECK(features.dim() == 4 && features.size(0) == V, "mv2d: features ", features.sizes(), " for ", V, " views");
  XL_CHECK(static_cast<int64_t>(rois.size()) == V, "mv2d: ", rois.size(), " RoI lists for ", V, " views");
  const auto opts = features.options().dtype(torch::kFloat);
  Mv2dHeadOutput out;
  std::vector<std::vector<core::Box2D>> boxes(V);
  std::vector<torch::Tensor> rois5;
  std::vector<int64_t> views;
  for (int64_t v = 0; v < V; ++v) {
    const auto r = rois[v].detach().to(torch::kCPU, torch::kFloat).contiguous();
    XL_CHECK(r.dim() == 2 && r.size(1) == 4, "mv2d: rois[", v, "] must be [R, 4], got ", r.sizes());
    const auto a = r.accessor<float, 2>();
    for (int64_t i = 0; i < r.size(0); ++i) {
      boxes[v].push_back({a[i][0], a[i][1], a[i][2], a[i][3]});
      views.push_back(v);
    }
    rois5.push_back(torch::cat({torch::full({r.size(0), 1}, float(v)), r}, 1));
  }
  const auto Q = static_cast<int64_t>(views.size());
  const bool fused = candidates != nullptr && !candidates->empty();
  if (fused)
    XL_CHECK(static_cast<int64_t>(candidates->candidate.size()) == Q, "mv2d: ", candidates->candidate.size(),
             " candidate indices for ", Q, " RoIs");
  out.cameras = cameras;
  for (const auto& b : boxes) out.rois.insert(out.rois.end(), b.begin(), b.end());
  out.query_view = torch::tensor(views, torch::TensorOptions().dtype(torch::kLong)).to(features.device());
  if (Q == 0) {
    out.reference = torch::zeros({0, 3}, opts);
    for (int l = 0; l < c.layers; ++l) {
      out.logits.push_back(torch::zeros({0}, opts));
      out.centers.push_back(torch::zeros({0, 3}, opts));
      out.log_sizes.push_back(torch::zeros({0, 3}, opts));
    }
    return out;
  }
  const auto all = torch::cat(rois5, 0).to(features.device());
  detect2d::RoIAlignOptions ro;
  ro.pooled_height = ro.pooled_width = c.roi_size;
  ro.sampling_ratio = c.roi_sampling_ratio;
  ro.spatial_scale = 1.0 / double(stride);
  const auto pooled = detect2d::roi_align(features.to(torch::kFloat), all, ro);  // [Q, C, n, n]
  const auto f = input_proj(pooled);                                             // [Q, d, n, n]

  // Query generator: (u, v) on the RoI grid, depth in mm around the prior depth (depth_prior).
  const auto cams = camera_tensors(cameras, c.range, opts);
  const auto [kt, gt] = roi_geometry(boxes, cameras, c, opts);
  auto x = torch::relu(qg_conv(f)).mean({2, 3});
  x = torch::relu(qg_fc(x));
  const auto uvd = qg_center(qg_mlp->forward(torch::cat({x, kt}, 1)));  // [Q, 3]
  const double n = c.roi_size;
  const int64_t T = int64_t(c.roi_size) * c.roi_size, D = c.key_pe_depths;
  auto u_img = (uvd.select(1, 0) + 0.5) * gt.select(1, 2) / n + gt.select(1, 0);
  auto v_img = (uvd.select(1, 1) + 0.5) * gt.select(1, 3) / n + gt.select(1, 1);
  auto prior_depth = cams.iso_depth.index_select(0, out.query_view);
  if (c.depth_prior == "rays") {
    const auto rays = ray_consensus_depths(cameras, boxes, c.ray_depth);
    const auto found = torch::tensor(rays, torch::TensorOptions().dtype(torch::kDouble)).to(opts);
    prior_depth = torch::where(torch::isfinite(found), found, prior_depth);
  }
  auto depth = prior_depth + c.depth_scale_mm * uvd.select(1, 2);
  if (fused) {
    // A fused query starts at its candidate's centre: the centre's pixel and depth in the query's view, moved by
    // the generator's output relative to its initial value (RoI-grid centre, depth 0), so an untrained generator
    // leaves the reference exactly at the candidate (tests/detect3d/test_mv2d.cpp).
    std::vector<float> cu(Q), cv(Q), cd(Q), prior(Q, -1.f);
    std::vector<uint8_t> is(Q, 0);
    for (int64_t q = 0; q < Q; ++q) {
      const int k = candidates->candidate[q];
      if (k < 0) continue;
      XL_CHECK(k < static_cast<int>(candidates->candidates.size()), "mv2d: candidate ", k, " of ",
               candidates->candidates.size());
      const auto& cam = cameras[views[q]];
      const Eigen::Vector3d centre = candidates->candidates[k].box.center;
      const Eigen::Vector2d uv = cam.project(centre);
      cu[q] = float(uv.x()), cv[q] = float(uv.y()), cd[q] = float(cam.depth(centre)), is[q] = 1;
      prior[q] = float(candidates->candidates[k].score);
    }
    auto t = [&](std::vector<float>& x) { return torch::from_blob(x.data(), {Q}, torch::kFloat).clone().to(opts); };
    const auto mask = torch::from_blob(is.data(), {Q}, torch::kUInt8).clone().to(torch::kBool).to(features.device());
    const double mid = 0.5 * (c.roi_size - 1);
    u_img = torch::where(mask, t(cu) + (uvd.select(1, 0) - mid) * gt.select(1, 2) / n, u_img);
    v_img = torch::where(mask, t(cv) + (uvd.select(1, 1) - mid) * gt.select(1, 3) / n, v_img);
    depth = torch::where(mask, t(cd) + c.depth_scale_mm * uvd.select(1, 2), depth);
    out.prior_score = t(prior);
  }
  const auto ref_mm = lift(u_img, v_img, depth.clamp_min(1.0), cams, out.query_view);
  out.reference = normalize_points(ref_mm, c.range);
  const auto ref_clamped = out.reference.clamp(0, 1);
  const auto query_pos = query_pe->forward(sine_position_encoding(ref_clamped, c.pe_freqs, c.pe_temperature));

  // Keys: per RoI its n x n tokens and their PETR position encoding (points along each cell's ray).
  const auto key_points = petr_key_points(gt, cameras, cams, out.query_view, c);  // [Q, T, D, 3]
  const auto key_pos_tokens =
      key_pe->forward(inverse_sigmoid(key_points).reshape({Q * T, D * 3})).view({Q, T, c.d_model});
  const auto tokens = f.flatten(2).permute({0, 2, 1});  // [Q, T, d]
  const auto key_pos_all = key_pos_tokens * torch::sigmoid(key_pe_gate(tokens));

  // Correlation: own RoI + in each other view the RoI overlapping the projected frustum most.
  out.correlation = correlate_rois(cameras, boxes, c.range, c.frustum_depth_mm);
  if (fused) {
    // A fused query's keys: its candidate's own RoI in every other view (absent where the candidate is not seen).
    std::map<std::pair<int, int64_t>, int> roi_of;  // (candidate, view) -> global RoI index
    for (int64_t q = 0; q < Q; ++q)
      if (candidates->candidate[q] >= 0) roi_of[{candidates->candidate[q], views[q]}] = static_cast<int>(q);
    for (int64_t q = 0; q < Q; ++q) {
      const int k = candidates->candidate[q];
      if (k < 0) continue;
      for (int64_t w = 0; w < V; ++w) {
        const auto it = roi_of.find({k, w});
        out.correlation[q][w] = it == roi_of.end() ? -1 : it->second;
      }
    }
  }
  const auto [it, mask] = key_index(out.correlation, T, features.device());
  const auto keys = tokens.index_select(0, it).view({Q, V * T, c.d_model}).permute({1, 0, 2});
  const auto key_pos = key_pos_all.index_select(0, it).view({Q, V * T, c.d_model}).permute({1, 0, 2});

  auto tgt = torch::zeros({Q, c.d_model}, opts);
  const auto ref_logit = inverse_sigmoid(out.reference);
  const double log_prior = std::log(c.size_prior_mm);
  for (const auto& m : *decoder) {
    tgt = m->as<DecoderLayerImpl>()->forward(tgt, query_pos, keys, key_pos, mask);
    out.logits.push_back(cls_branch->forward(tgt).squeeze(1));
    const auto reg = reg_branch->forward(tgt);
    out.centers.push_back(torch::sigmoid(reg.slice(1, 0, 3) + ref_logit));
    out.log_sizes.push_back(reg.slice(1, 3, 6) + log_prior);
  }
  return out;
}

}  // namespace xraylift::detect3d
