#include <nlohmann/json.hpp>

#include <cstring>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/viz/axes.hpp"
#include "xraylift/viz/export.hpp"

namespace xraylift::viz {
namespace {

constexpr std::uint32_t kGlbMagic = 0x46546C67;  // "glTF"
constexpr std::uint32_t kChunkJson = 0x4E4F534A;
constexpr std::uint32_t kChunkBin = 0x004E4942;
constexpr int kFloat = 5126, kUint32 = 5125, kArrayBuffer = 34962, kElementArrayBuffer = 34963;

void put_u32(std::string& s, std::uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }
std::uint32_t get_u32(const std::string& s, std::size_t at) {
  std::uint32_t v;
  std::memcpy(&v, s.data() + at, 4);
  return v;
}
template <typename T>
void append_raw(std::string& bin, const T* data, std::size_t count) {
  bin.append(reinterpret_cast<const char*>(data), count * sizeof(T));
}
void pad4(std::string& s, char fill) {
  while (s.size() % 4) s.push_back(fill);
}

}  // namespace

void write_glb(const std::filesystem::path& path, const Scene& scene) {
  using nlohmann::json;
  XL_CHECK(!scene.nodes.empty(), "write_glb ", path.string(), ": empty scene");
  std::string bin;
  json views = json::array(), accessors = json::array(), meshes = json::array(), materials = json::array(),
       nodes = json::array(), scene_nodes = json::array();
  auto add_view = [&](std::size_t offset, std::size_t length, int target) {
    views.push_back({{"buffer", 0}, {"byteOffset", offset}, {"byteLength", length}, {"target", target}});
    return int(views.size()) - 1;
  };
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
    std::size_t off = bin.size();
    append_raw(bin, pos[0].data(), pos.size() * 3);
    const int pos_view = add_view(off, bin.size() - off, kArrayBuffer);
    off = bin.size();
    append_raw(bin, nrm[0].data(), nrm.size() * 3);
    const int nrm_view = add_view(off, bin.size() - off, kArrayBuffer);
    off = bin.size();
    append_raw(bin, node.mesh.triangles[0].data(), node.mesh.triangles.size() * 3);
    const int idx_view = add_view(off, bin.size() - off, kElementArrayBuffer);
    accessors.push_back({{"bufferView", pos_view},
                         {"componentType", kFloat},
                         {"count", pos.size()},
                         {"type", "VEC3"},
                         {"min", {lo.x(), lo.y(), lo.z()}},
                         {"max", {hi.x(), hi.y(), hi.z()}}});
    accessors.push_back({{"bufferView", nrm_view}, {"componentType", kFloat}, {"count", nrm.size()}, {"type", "VEC3"}});
    accessors.push_back({{"bufferView", idx_view},
                         {"componentType", kUint32},
                         {"count", node.mesh.triangles.size() * 3},
                         {"type", "SCALAR"}});
    const int a0 = int(accessors.size()) - 3;
    const bool blend = node.translucent;
    json mat = {{"name", node.name + "_material"},
                {"pbrMetallicRoughness",
                 {{"baseColorFactor", {node.rgba[0], node.rgba[1], node.rgba[2], blend ? node.rgba[3] : 1.0f}},
                  {"metallicFactor", 0.0},
                  {"roughnessFactor", 0.7}}},
                {"alphaMode", blend ? "BLEND" : "OPAQUE"},
                {"doubleSided", blend}};
    materials.push_back(mat);
    meshes.push_back({{"name", node.name},
                      {"primitives",
                       {{{"attributes", {{"POSITION", a0}, {"NORMAL", a0 + 1}}},
                         {"indices", a0 + 2},
                         {"material", int(materials.size()) - 1},
                         {"mode", 4}}}}});
    json extras = node.info;
    extras["kind"] = to_string(node.kind);
    extras["display_opacity"] = node.rgba[3];
    nodes.push_back({{"name", node.name}, {"mesh", int(meshes.size()) - 1}, {"extras", extras}});
    scene_nodes.push_back(int(nodes.size()) - 1);
  }
  pad4(bin, '\0');
  json doc = {
      {"asset",
       {{"version", "2.0"},
        {"generator", "xraylift viz"},
        {"extras",
         {{"frame", "glTF: X = patient left, Y = superior, Z = anterior; metres"}, {"source_frame", "world-LPS mm"}}}}},
      {"scene", 0},
      {"scenes", {{{"name", "xraylift_scene"}, {"nodes", scene_nodes}}}},
      {"nodes", nodes},
      {"meshes", meshes},
      {"materials", materials},
      {"accessors", accessors},
      {"bufferViews", views},
      {"buffers", {{{"byteLength", bin.size()}}}}};
  std::string js = doc.dump();
  pad4(js, ' ');
  std::string out;
  put_u32(out, kGlbMagic);
  put_u32(out, 2);
  put_u32(out, std::uint32_t(12 + 8 + js.size() + 8 + bin.size()));
  put_u32(out, std::uint32_t(js.size()));
  put_u32(out, kChunkJson);
  out += js;
  put_u32(out, std::uint32_t(bin.size()));
  put_u32(out, kChunkBin);
  out += bin;
  core::write_file_atomic(path, out);
}

namespace {

// Reads every mesh node of a GLB; `visit` gets the node JSON, its material JSON (or null), positions and indices.
template <typename Visit>
void parse_glb(const std::filesystem::path& path, Visit visit) {
  using nlohmann::json;
  const std::string s = core::read_file(path);
  const std::string where = path.string();
  XL_CHECK(s.size() >= 20 && get_u32(s, 0) == kGlbMagic, where, ": not a GLB file (magic)");
  XL_CHECK(get_u32(s, 4) == 2, where, ": GLB version ", get_u32(s, 4), ", expected 2");
  XL_CHECK(get_u32(s, 8) == s.size(), where, ": GLB length field ", get_u32(s, 8), " != file size ", s.size());
  const std::uint32_t json_len = get_u32(s, 12);
  XL_CHECK(get_u32(s, 16) == kChunkJson && 20 + json_len + 8 <= s.size(), where, ": bad JSON chunk");
  json doc;
  try {
    doc = json::parse(s.substr(20, json_len));
  } catch (const json::exception& e) {
    throw core::InputError(core::cat(where, ": JSON chunk does not parse: ", e.what()));
  }
  const std::size_t bin_at = 20 + json_len;
  const std::uint32_t bin_len = get_u32(s, bin_at);
  XL_CHECK(get_u32(s, bin_at + 4) == kChunkBin && bin_at + 8 + bin_len == s.size(), where, ": bad BIN chunk");
  XL_CHECK(doc.at("buffers").at(0).at("byteLength").get<std::size_t>() <= bin_len, where, ": buffer longer than BIN");
  const char* bin = s.data() + bin_at + 8;
  auto view_data = [&](int accessor, std::size_t elem_bytes) {
    const json& a = doc.at("accessors").at(accessor);
    const json& v = doc.at("bufferViews").at(a.at("bufferView").get<int>());
    const std::size_t off = v.value("byteOffset", 0) + a.value("byteOffset", 0);
    XL_CHECK(off + a.at("count").get<std::size_t>() * elem_bytes <=
                     v.value("byteOffset", 0) + v.at("byteLength").get<std::size_t>() &&
                 off + a.at("count").get<std::size_t>() * elem_bytes <= bin_len,
             where, ": accessor ", accessor, " exceeds its buffer view");
    return bin + off;
  };
  try {
    for (const json& node : doc.at("nodes")) {
      if (!node.contains("mesh")) continue;
      const json& mesh = doc.at("meshes").at(node.at("mesh").get<int>());
      const json& prim = mesh.at("primitives").at(0);
      const std::string name = node.value("name", "");
      const int pa = prim.at("attributes").at("POSITION").get<int>();
      const json& acc = doc.at("accessors").at(pa);
      XL_CHECK(acc.at("componentType") == kFloat && acc.at("type") == "VEC3", where, ": POSITION not float VEC3");
      std::vector<Eigen::Vector3f> pos(acc.at("count").get<std::size_t>());
      const char* p = view_data(pa, 12);
      Bounds b;
      for (std::size_t i = 0; i < pos.size(); ++i) {
        std::memcpy(pos[i].data(), p + 12 * i, 12);
        b.add(pos[i].cast<double>());
      }
      for (int c = 0; c < 3; ++c)
        XL_CHECK(std::abs(acc.at("min")[c].get<double>() - b.lo[c]) < 1e-6 &&
                     std::abs(acc.at("max")[c].get<double>() - b.hi[c]) < 1e-6,
                 where, ": node ", name, " accessor min/max disagree with the data");
      const int ia = prim.at("indices").get<int>();
      const json& iacc = doc.at("accessors").at(ia);
      XL_CHECK(iacc.at("componentType") == kUint32, where, ": indices not uint32");
      const std::size_t ni = iacc.at("count").get<std::size_t>();
      XL_CHECK(ni % 3 == 0, where, ": index count ", ni, " not a multiple of 3");
      std::vector<Eigen::Vector3i> tris(ni / 3);
      const char* ip = view_data(ia, 4);
      for (std::size_t i = 0; i < ni; ++i) {
        std::uint32_t v;
        std::memcpy(&v, ip + 4 * i, 4);
        XL_CHECK(v < pos.size(), where, ": node ", name, " index ", v, " >= vertex count ", pos.size());
        tris[i / 3][int(i % 3)] = int(v);
      }
      const json material = prim.contains("material") ? doc.at("materials").at(prim.at("material").get<int>()) : json();
      visit(node, material, pos, tris, b);
    }
  } catch (const json::exception& e) {
    throw core::InputError(core::cat(where, ": malformed glTF JSON: ", e.what()));
  }
}

}  // namespace

std::vector<MeshSummary> read_glb(const std::filesystem::path& path) {
  using nlohmann::json;
  std::vector<MeshSummary> out;
  parse_glb(path, [&](const json& node, const json& mat, const std::vector<Eigen::Vector3f>& pos,
                      const std::vector<Eigen::Vector3i>& tris, const Bounds& b) {
    MeshSummary m;
    m.name = node.value("name", "");
    m.vertex_count = pos.size();
    m.triangle_count = tris.size();
    m.bounds = b;
    if (!mat.is_null()) {
      m.alpha_mode = mat.value("alphaMode", "OPAQUE");
      const auto& c = mat.at("pbrMetallicRoughness").at("baseColorFactor");
      m.rgba = {c[0].get<float>(), c[1].get<float>(), c[2].get<float>(), c[3].get<float>()};
    }
    out.push_back(std::move(m));
  });
  return out;
}

Scene read_glb_scene(const std::filesystem::path& path) {
  using nlohmann::json;
  Scene scene;
  parse_glb(path, [&](const json& node, const json& mat, const std::vector<Eigen::Vector3f>& pos,
                      const std::vector<Eigen::Vector3i>& tris, const Bounds&) {
    SceneNode n;
    n.name = node.value("name", "");
    n.mesh.vertices.reserve(pos.size());
    for (const auto& p : pos) n.mesh.vertices.push_back(gltf_to_lps_mm(p));
    n.mesh.triangles = tris;
    if (!mat.is_null()) {
      const auto& c = mat.at("pbrMetallicRoughness").at("baseColorFactor");
      n.rgba = {c[0].get<float>(), c[1].get<float>(), c[2].get<float>(), c[3].get<float>()};
      n.translucent = mat.value("alphaMode", "OPAQUE") == "BLEND";
    }
    json extras = node.value("extras", json::object());
    const std::string kind = extras.value("kind", "lung");
    n.kind = kind == "nodule" ? NodeKind::kNodule : kind == "attention" ? NodeKind::kAttention : NodeKind::kLung;
    n.rgba[3] = extras.value("display_opacity", n.rgba[3]);
    extras.erase("kind");
    extras.erase("display_opacity");
    n.info = extras;
    scene.nodes.push_back(std::move(n));
  });
  return scene;
}

}  // namespace xraylift::viz
