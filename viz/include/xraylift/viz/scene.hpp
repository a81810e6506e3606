#pragma once
// A nodule scene: the lung shell (translucent), nodules (boxes and/or spheres, coloured by source, opacity by
// score) and optional attention spheres. Geometry stays in the world frame (LPS, mm) until an exporter maps it
// (see axes.hpp). Every exporter and the renderers read this one structure.
#include <Eigen/Core>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "xraylift/core/box_set.hpp"
#include "xraylift/viz/lung_model.hpp"
#include "xraylift/viz/mesh.hpp"

namespace xraylift::viz {

// kEvidence: a peak (or the iso-surface) of a model's 3D evidence volume (evidence.hpp).
enum class NodeKind { kLung, kNodule, kAttention, kEvidence };
const char* to_string(NodeKind k);
NodeKind parse_node_kind(const std::string& s);  // to_string's names; InputError otherwise

struct SceneNode {
  std::string name;  // unique: "right_lung", "nodule_n1_sphere", ...
  NodeKind kind = NodeKind::kLung;
  Mesh mesh;                                       // world LPS mm
  Eigen::Vector4f rgba{1, 1, 1, 1};                // linear colour; alpha is the display opacity
  bool translucent = false;                        // drawn blended (glTF alphaMode BLEND); nodules are opaque in glTF
  nlohmann::json info = nlohmann::json::object();  // what a viewer shows on click: size, score, position, source
};

struct Scene {
  std::vector<SceneNode> nodes;
  std::size_t triangle_count() const;
  Bounds bounds() const;
  const SceneNode* find(const std::string& name) const;
};

enum class NoduleShape { kBox, kSphere, kBoth };
NoduleShape parse_nodule_shape(const std::string& s);  // "box" | "sphere" | "both"; ConfigError otherwise

struct SceneStyle {
  Eigen::Vector4f lung_rgba{0.93f, 0.62f, 0.60f, 0.35f};
  Eigen::Vector3f truth_rgb{0.15f, 0.80f, 0.25f};
  Eigen::Vector3f prediction_rgb{0.95f, 0.25f, 0.15f};
  Eigen::Vector3f attention_rgb{1.0f, 0.75f, 0.0f};
  NoduleShape nodule_shape = NoduleShape::kSphere;
  double min_nodule_opacity = 0.3;  // opacity = min + (1 - min) * score
};

// Lungs of the model become translucent shell nodes; boxes become nodule nodes (sphere diameter from
// BoxRecord::diameter()). Boxes with ignore = true are skipped.
Scene make_scene(const LungModel& lungs, const std::vector<core::BoxRecord>& boxes, const SceneStyle& style = {});
void add_nodules(Scene& scene, const std::vector<core::BoxRecord>& boxes, const SceneStyle& style = {});

// An attention (infection) sphere: centre in world mm, diameter mm, intensity in [0, 1].
struct AttentionSpot {
  Eigen::Vector3d centre;
  double diameter_mm = 0;
  double intensity = 0;
};
void add_attention(Scene& scene, const std::vector<AttentionSpot>& spots, const SceneStyle& style = {});

}  // namespace xraylift::viz
