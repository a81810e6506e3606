// glTF 2.0 binary (.glb) through tinygltf (the Khronos-listed C++ loader/writer, Debian libtinygltf-dev): the
// scene is built as a tinygltf::Model and serialised to memory, then written atomically. Reading back uses the
// same library for the container and JSON, plus own checks of what a viewer relies on (accessor min/max equal
// the data, indices in range, accessors inside their buffer views).
#include <tiny_gltf.h>

#include <cstring>
#include <limits>
#include <sstream>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/viz/axes.hpp"
#include "xraylift/viz/export.hpp"

namespace xraylift::viz {
namespace {

using nlohmann::json;

tinygltf::Value to_value(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
      return tinygltf::Value();
    case json::value_t::boolean:
      return tinygltf::Value(j.get<bool>());
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: {
      const double d = j.get<double>();
      if (d >= std::numeric_limits<int>::min() && d <= std::numeric_limits<int>::max())
        return tinygltf::Value(j.get<int>());
      return tinygltf::Value(d);
    }
    case json::value_t::number_float:
      return tinygltf::Value(j.get<double>());
    case json::value_t::string:
      return tinygltf::Value(j.get<std::string>());
    case json::value_t::array: {
      tinygltf::Value::Array a;
      for (const auto& e : j) a.push_back(to_value(e));
      return tinygltf::Value(std::move(a));
    }
    case json::value_t::object:
    case json::value_t::binary:
      break;
  }
  tinygltf::Value::Object o;
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it) o[it.key()] = to_value(it.value());
  return tinygltf::Value(std::move(o));
}

json to_json(const tinygltf::Value& v) {
  if (v.IsBool()) return v.Get<bool>();
  if (v.IsInt()) return v.Get<int>();
  if (v.IsNumber()) return v.GetNumberAsDouble();
  if (v.IsString()) return v.Get<std::string>();
  if (v.IsArray()) {
    json a = json::array();
    for (std::size_t i = 0; i < v.ArrayLen(); ++i) a.push_back(to_json(v.Get(int(i))));
    return a;
  }
  if (v.IsObject()) {
    json o = json::object();
    for (const auto& key : v.Keys()) o[key] = to_json(v.Get(key));
    return o;
  }
  return nullptr;
}

template <typename T>
int add_view(tinygltf::Model& model, const T* data, std::size_t count, int target) {
  auto& bin = model.buffers[0].data;
  const std::size_t offset = bin.size();
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  bin.insert(bin.end(), bytes, bytes + count * sizeof(T));
  while (bin.size() % 4) bin.push_back(0);
  tinygltf::BufferView view;
  view.buffer = 0;
  view.byteOffset = offset;
  view.byteLength = count * sizeof(T);
  view.target = target;
  model.bufferViews.push_back(view);
  return int(model.bufferViews.size()) - 1;
}

int add_accessor(tinygltf::Model& model, int view, int component, int type, std::size_t count) {
  tinygltf::Accessor a;
  a.bufferView = view;
  a.componentType = component;
  a.type = type;
  a.count = count;
  model.accessors.push_back(a);
  return int(model.accessors.size()) - 1;
}

}  // namespace

void write_glb(const std::filesystem::path& path, const Scene& scene) {
  XL_CHECK(!scene.nodes.empty(), "write_glb ", path.string(), ": empty scene");
  tinygltf::Model model;
  model.asset.version = "2.0";
  model.asset.generator = "xraylift viz (tinygltf)";
  model.asset.extras = to_value(
      {{"frame", "glTF: X = patient left, Y = superior, Z = anterior; metres"}, {"source_frame", "world-LPS mm"}});
  model.buffers.emplace_back();
  tinygltf::Scene gscene;
  gscene.name = "xraylift_scene";
  for (const auto& node : scene.nodes) {
    validate_mesh(node.mesh, "write_glb node " + node.name);
    XL_CHECK(!node.mesh.empty(), "write_glb ", path.string(), ": node ", node.name, " has no triangles");
    std::vector<Eigen::Vector3f> pos(node.mesh.vertices.size());
    Eigen::Vector3f lo = Eigen::Vector3f::Constant(1e30f), hi = -lo;
    for (std::size_t i = 0; i < pos.size(); ++i) {
      pos[i] = lps_mm_to_gltf(node.mesh.vertices[i]);
      lo = lo.cwiseMin(pos[i]);
      hi = hi.cwiseMax(pos[i]);
    }
    std::vector<Eigen::Vector3f> nrm = vertex_normals(node.mesh);
    for (auto& n : nrm) n = lps_dir_to_gltf(n);
    for (auto& n : nrm)
      if (n.squaredNorm() < 0.5f) n = Eigen::Vector3f::UnitY();  // glTF requires unit normals
    const int pa = add_accessor(model, add_view(model, pos[0].data(), 3 * pos.size(), TINYGLTF_TARGET_ARRAY_BUFFER),
                                TINYGLTF_COMPONENT_TYPE_FLOAT, TINYGLTF_TYPE_VEC3, pos.size());
    model.accessors[std::size_t(pa)].minValues = {lo.x(), lo.y(), lo.z()};
    model.accessors[std::size_t(pa)].maxValues = {hi.x(), hi.y(), hi.z()};
    const int na = add_accessor(model, add_view(model, nrm[0].data(), 3 * nrm.size(), TINYGLTF_TARGET_ARRAY_BUFFER),
                                TINYGLTF_COMPONENT_TYPE_FLOAT, TINYGLTF_TYPE_VEC3, nrm.size());
    static_assert(sizeof(Eigen::Vector3i) == 3 * sizeof(std::uint32_t));
    const auto* idx = reinterpret_cast<const std::uint32_t*>(node.mesh.triangles[0].data());
    const int ia =
        add_accessor(model, add_view(model, idx, 3 * node.mesh.triangles.size(), TINYGLTF_TARGET_ELEMENT_ARRAY_BUFFER),
                     TINYGLTF_COMPONENT_TYPE_UNSIGNED_INT, TINYGLTF_TYPE_SCALAR, 3 * node.mesh.triangles.size());
    const bool blend = node.translucent;
    tinygltf::Material mat;
    mat.name = node.name + "_material";
    mat.pbrMetallicRoughness.baseColorFactor = {node.rgba[0], node.rgba[1], node.rgba[2], blend ? node.rgba[3] : 1.0};
    mat.pbrMetallicRoughness.metallicFactor = 0.0;
    mat.pbrMetallicRoughness.roughnessFactor = 0.7;
    mat.alphaMode = blend ? "BLEND" : "OPAQUE";
    mat.doubleSided = blend;
    model.materials.push_back(mat);
    tinygltf::Primitive prim;
    prim.attributes = {{"POSITION", pa}, {"NORMAL", na}};
    prim.indices = ia;
    prim.material = int(model.materials.size()) - 1;
    prim.mode = TINYGLTF_MODE_TRIANGLES;
    tinygltf::Mesh mesh;
    mesh.name = node.name;
    mesh.primitives.push_back(prim);
    model.meshes.push_back(mesh);
    json extras = node.info;
    extras["kind"] = to_string(node.kind);
    extras["display_opacity"] = node.rgba[3];
    tinygltf::Node gnode;
    gnode.name = node.name;
    gnode.mesh = int(model.meshes.size()) - 1;
    gnode.extras = to_value(extras);
    model.nodes.push_back(gnode);
    gscene.nodes.push_back(int(model.nodes.size()) - 1);
  }
  model.scenes.push_back(gscene);
  model.defaultScene = 0;
  std::ostringstream os;
  tinygltf::TinyGLTF writer;
  XL_CHECK(writer.WriteGltfSceneToStream(&model, os, false, true), "write_glb ", path.string(),
           ": tinygltf could not serialise the scene");
  core::write_file_atomic(path, os.str());
}

namespace {

// Reads every mesh node of a GLB; `visit` gets the node's name, its extras (JSON), its material (or null),
// positions (file frame), indices and their bounds.
template <typename Visit>
void parse_glb(const std::filesystem::path& path, Visit visit) {
  const std::string where = path.string();
  const std::string s = core::read_file(path);
  tinygltf::Model model;
  tinygltf::TinyGLTF loader;
  std::string err, warn;
  const bool ok = loader.LoadBinaryFromMemory(&model, &err, &warn, reinterpret_cast<const unsigned char*>(s.data()),
                                              static_cast<unsigned int>(s.size()));
  XL_CHECK(ok, where, ": not a valid GLB file (tinygltf: ", err.empty() ? warn : err, ")");
  auto accessor_data = [&](int index, int component, int type, std::size_t elem_bytes) {
    XL_CHECK(index >= 0 && std::size_t(index) < model.accessors.size(), where, ": accessor ", index, " missing");
    const auto& a = model.accessors[std::size_t(index)];
    XL_CHECK(a.componentType == component && a.type == type, where, ": accessor ", index, " component type ",
             a.componentType, " type ", a.type, ", expected ", component, " / ", type);
    XL_CHECK(a.bufferView >= 0 && std::size_t(a.bufferView) < model.bufferViews.size(), where, ": accessor ", index,
             " has no buffer view");
    const auto& v = model.bufferViews[std::size_t(a.bufferView)];
    XL_CHECK(v.buffer >= 0 && std::size_t(v.buffer) < model.buffers.size(), where, ": buffer view without buffer");
    const auto& b = model.buffers[std::size_t(v.buffer)].data;
    const std::size_t off = v.byteOffset + a.byteOffset;
    XL_CHECK(a.byteOffset + a.count * elem_bytes <= v.byteLength && v.byteOffset + v.byteLength <= b.size(), where,
             ": accessor ", index, " exceeds its buffer view");
    return std::pair<const unsigned char*, std::size_t>(b.data() + off, a.count);
  };
  for (const auto& node : model.nodes) {
    if (node.mesh < 0) continue;
    XL_CHECK(std::size_t(node.mesh) < model.meshes.size() && !model.meshes[std::size_t(node.mesh)].primitives.empty(),
             where, ": node ", node.name, " mesh ", node.mesh, " missing or empty");
    const auto& prim = model.meshes[std::size_t(node.mesh)].primitives[0];
    const auto pit = prim.attributes.find("POSITION");
    XL_CHECK(pit != prim.attributes.end(), where, ": node ", node.name, " has no POSITION");
    const auto [pdata, nv] = accessor_data(pit->second, TINYGLTF_COMPONENT_TYPE_FLOAT, TINYGLTF_TYPE_VEC3, 12);
    std::vector<Eigen::Vector3f> pos(nv);
    Bounds b;
    for (std::size_t i = 0; i < nv; ++i) {
      std::memcpy(pos[i].data(), pdata + 12 * i, 12);
      b.add(pos[i].cast<double>());
    }
    const auto& acc = model.accessors[std::size_t(pit->second)];
    XL_CHECK(acc.minValues.size() == 3 && acc.maxValues.size() == 3, where, ": node ", node.name,
             " POSITION accessor has no min/max");
    for (int c = 0; c < 3; ++c)
      XL_CHECK(std::abs(acc.minValues[std::size_t(c)] - b.lo[c]) < 1e-6 &&
                   std::abs(acc.maxValues[std::size_t(c)] - b.hi[c]) < 1e-6,
               where, ": node ", node.name, " accessor min/max disagree with the data");
    const auto [idata, ni] = accessor_data(prim.indices, TINYGLTF_COMPONENT_TYPE_UNSIGNED_INT, TINYGLTF_TYPE_SCALAR, 4);
    XL_CHECK(ni % 3 == 0, where, ": index count ", ni, " not a multiple of 3");
    std::vector<Eigen::Vector3i> tris(ni / 3);
    for (std::size_t i = 0; i < ni; ++i) {
      std::uint32_t v;
      std::memcpy(&v, idata + 4 * i, 4);
      XL_CHECK(v < nv, where, ": node ", node.name, " index ", v, " >= vertex count ", nv);
      tris[i / 3][int(i % 3)] = int(v);
    }
    const tinygltf::Material* mat = prim.material >= 0 && std::size_t(prim.material) < model.materials.size()
                                        ? &model.materials[std::size_t(prim.material)]
                                        : nullptr;
    json extras = node.extras.IsObject() ? to_json(node.extras) : json::object();
    visit(node.name, extras, mat, pos, tris, b);
  }
}

Eigen::Vector4f colour_of(const tinygltf::Material& m) {
  const auto& c = m.pbrMetallicRoughness.baseColorFactor;
  return c.size() == 4 ? Eigen::Vector4f(float(c[0]), float(c[1]), float(c[2]), float(c[3]))
                       : Eigen::Vector4f(1, 1, 1, 1);
}

}  // namespace

std::vector<MeshSummary> read_glb(const std::filesystem::path& path) {
  std::vector<MeshSummary> out;
  parse_glb(path,
            [&](const std::string& name, const json&, const tinygltf::Material* mat,
                const std::vector<Eigen::Vector3f>& pos, const std::vector<Eigen::Vector3i>& tris, const Bounds& b) {
              MeshSummary m;
              m.name = name;
              m.vertex_count = pos.size();
              m.triangle_count = tris.size();
              m.bounds = b;
              if (mat) {
                m.alpha_mode = mat->alphaMode;
                m.rgba = colour_of(*mat);
              }
              out.push_back(std::move(m));
            });
  return out;
}

Scene read_glb_scene(const std::filesystem::path& path) {
  Scene scene;
  parse_glb(path,
            [&](const std::string& name, json extras, const tinygltf::Material* mat,
                const std::vector<Eigen::Vector3f>& pos, const std::vector<Eigen::Vector3i>& tris, const Bounds&) {
              SceneNode n;
              n.name = name;
              n.mesh.vertices.reserve(pos.size());
              for (const auto& p : pos) n.mesh.vertices.push_back(gltf_to_lps_mm(p));
              n.mesh.triangles = tris;
              if (mat) {
                n.rgba = colour_of(*mat);
                n.translucent = mat->alphaMode == "BLEND";
              }
              n.kind = parse_node_kind(extras.value("kind", "lung"));
              n.rgba[3] = extras.value("display_opacity", n.rgba[3]);
              extras.erase("kind");
              extras.erase("display_opacity");
              n.info = extras;
              scene.nodes.push_back(std::move(n));
            });
  return scene;
}

}  // namespace xraylift::viz
