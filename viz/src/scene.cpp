#include "xraylift/viz/scene.hpp"

#include <algorithm>

#include "xraylift/core/error.hpp"

namespace xraylift::viz {

const char* to_string(NodeKind k) {
  switch (k) {
    case NodeKind::kLung:
      return "lung";
    case NodeKind::kNodule:
      return "nodule";
    case NodeKind::kAttention:
      return "attention";
    case NodeKind::kEvidence:
      return "evidence";
  }
  return "?";
}

NodeKind parse_node_kind(const std::string& s) {
  for (NodeKind k : {NodeKind::kLung, NodeKind::kNodule, NodeKind::kAttention, NodeKind::kEvidence})
    if (s == to_string(k)) return k;
  throw core::InputError(core::cat("scene node kind '", s, "': expected lung, nodule, attention or evidence"));
}

std::size_t Scene::triangle_count() const {
  std::size_t n = 0;
  for (const auto& node : nodes) n += node.mesh.triangle_count();
  return n;
}

Bounds Scene::bounds() const {
  Bounds b;
  for (const auto& node : nodes) {
    const Bounds nb = viz::bounds(node.mesh);
    if (nb.valid()) b.add(nb.lo), b.add(nb.hi);
  }
  return b;
}

const SceneNode* Scene::find(const std::string& name) const {
  for (const auto& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

NoduleShape parse_nodule_shape(const std::string& s) {
  if (s == "box") return NoduleShape::kBox;
  if (s == "sphere") return NoduleShape::kSphere;
  if (s == "both") return NoduleShape::kBoth;
  throw core::ConfigError(core::cat("nodule shape '", s, "': expected box, sphere or both"));
}

void add_nodules(Scene& scene, const std::vector<core::BoxRecord>& boxes, const SceneStyle& style) {
  XL_CHECK(style.min_nodule_opacity >= 0 && style.min_nodule_opacity <= 1, "scene style min_nodule_opacity ",
           style.min_nodule_opacity, ": expected 0 .. 1");
  int index = 0;
  for (const auto& r : boxes) {
    const std::string where = core::cat("nodule ", index, r.id.empty() ? "" : " (" + r.id + ")");
    core::validate_box(r.box, where);
    XL_CHECK(r.score >= 0 && r.score <= 1, where, ": score ", r.score, " outside [0, 1]");
    ++index;
    if (r.ignore) continue;
    const std::string id = r.id.empty() ? core::cat(index) : r.id;
    const bool truth = r.source == core::BoxSource::kTruth;
    const Eigen::Vector3f rgb = truth ? style.truth_rgb : style.prediction_rgb;
    const float alpha = float(style.min_nodule_opacity + (1 - style.min_nodule_opacity) * r.score);
    nlohmann::json info = {{"id", id},
                           {"source", core::to_string(r.source)},
                           {"label", r.label},
                           {"score", r.score},
                           {"center_mm", {r.box.center.x(), r.box.center.y(), r.box.center.z()}},
                           {"size_mm", {r.box.size.x(), r.box.size.y(), r.box.size.z()}},
                           {"diameter_mm", r.diameter()},
                           {"frame", "world-LPS"}};
    auto add = [&](const char* suffix, Mesh mesh) {
      SceneNode n;
      n.name = core::cat("nodule_", id, "_", suffix);
      n.kind = NodeKind::kNodule;
      n.mesh = std::move(mesh);
      n.rgba << rgb, alpha;
      n.info = info;
      scene.nodes.push_back(std::move(n));
    };
    if (style.nodule_shape != NoduleShape::kBox) add("sphere", make_sphere(r.box.center, 0.5 * r.diameter(), 12, 20));
    if (style.nodule_shape != NoduleShape::kSphere) add("box", make_box(r.box.center, r.box.size));
  }
}

void add_attention(Scene& scene, const std::vector<AttentionSpot>& spots, const SceneStyle& style) {
  int index = 0;
  for (const auto& s : spots) {
    XL_CHECK(s.centre.allFinite() && s.diameter_mm > 0 && s.intensity >= 0 && s.intensity <= 1, "attention spot ",
             index, ": centre (", s.centre.transpose(), "), diameter ", s.diameter_mm, ", intensity ", s.intensity,
             ": expected finite, diameter > 0, intensity 0 .. 1");
    SceneNode n;
    n.name = core::cat("attention_", ++index);
    n.kind = NodeKind::kAttention;
    n.mesh = make_sphere(s.centre, 0.5 * s.diameter_mm, 10, 16);
    n.rgba << style.attention_rgb, float(0.3 + 0.5 * s.intensity);
    n.translucent = true;
    n.info = {{"id", n.name},
              {"source", "attention"},
              {"score", s.intensity},
              {"center_mm", {s.centre.x(), s.centre.y(), s.centre.z()}},
              {"diameter_mm", s.diameter_mm},
              {"frame", "world-LPS"}};
    scene.nodes.push_back(std::move(n));
  }
}

Scene make_scene(const LungModel& lungs, const std::vector<core::BoxRecord>& boxes, const SceneStyle& style) {
  Scene scene;
  for (const auto& l : lungs.lungs) {
    SceneNode n;
    n.name = l.name;
    n.kind = NodeKind::kLung;
    n.mesh = l.mesh;
    n.rgba = style.lung_rgba;
    n.translucent = true;
    n.info = {{"id", l.name}, {"volume_ml", l.mask_ml}, {"triangles", l.mesh.triangle_count()}};
    scene.nodes.push_back(std::move(n));
  }
  add_nodules(scene, boxes, style);
  return scene;
}

}  // namespace xraylift::viz
