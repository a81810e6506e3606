#include <cstring>
#include <sstream>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/viz/export.hpp"

namespace xraylift::viz {
namespace {

std::string safe_name(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) c = '_';
  return out;
}

}  // namespace

void write_obj(const std::filesystem::path& path, const Scene& scene) {
  XL_CHECK(!scene.nodes.empty(), "write_obj ", path.string(), ": empty scene");
  const std::filesystem::path mtl_path = path.parent_path() / (path.stem().string() + ".mtl");
  std::ostringstream obj, mtl;
  obj.precision(7);
  mtl.precision(4);
  obj << "# xraylift nodule scene\n# SPACE=LPS\n# units: mm; world frame: +x patient left, +y posterior, +z superior\n"
      << "mtllib " << mtl_path.filename().string() << "\n";
  mtl << "# xraylift scene materials (d = opacity)\n";
  std::size_t base = 1;
  for (const auto& node : scene.nodes) {
    validate_mesh(node.mesh, "write_obj node " + node.name);
    const std::string name = safe_name(node.name);
    mtl << "newmtl " << name << "_material\nKd " << node.rgba[0] << ' ' << node.rgba[1] << ' ' << node.rgba[2]
        << "\nKa 0 0 0\nKs 0.1 0.1 0.1\nNs 20\nd " << node.rgba[3] << "\nillum 2\n\n";
    obj << "o " << name << "\nusemtl " << name << "_material\n";
    for (const auto& v : node.mesh.vertices) obj << "v " << v.x() << ' ' << v.y() << ' ' << v.z() << '\n';
    for (const auto& t : node.mesh.triangles)
      obj << "f " << base + t[0] << ' ' << base + t[1] << ' ' << base + t[2] << '\n';
    base += node.mesh.vertices.size();
  }
  core::write_file_atomic(mtl_path, mtl.str());
  core::write_file_atomic(path, obj.str());
}

void write_ply(const std::filesystem::path& path, const Scene& scene) {
  XL_CHECK(!scene.nodes.empty(), "write_ply ", path.string(), ": empty scene");
  std::size_t nv = 0, nf = 0;
  for (const auto& node : scene.nodes) {
    validate_mesh(node.mesh, "write_ply node " + node.name);
    nv += node.mesh.vertices.size();
    nf += node.mesh.triangles.size();
  }
  std::ostringstream h;
  h << "ply\nformat binary_little_endian 1.0\ncomment SPACE=LPS\ncomment xraylift nodule scene, units mm\n"
    << "element vertex " << nv << "\nproperty float x\nproperty float y\nproperty float z\n"
    << "property uchar red\nproperty uchar green\nproperty uchar blue\nproperty uchar alpha\n"
    << "element face " << nf << "\nproperty list uchar int vertex_indices\nend_header\n";
  std::string out = h.str();
  out.reserve(out.size() + nv * 16 + nf * 13);
  for (const auto& node : scene.nodes) {
    unsigned char rgba[4];
    for (int c = 0; c < 4; ++c)
      rgba[c] = static_cast<unsigned char>(std::lround(std::clamp(node.rgba[c], 0.f, 1.f) * 255));
    for (const auto& v : node.mesh.vertices) {
      out.append(reinterpret_cast<const char*>(v.data()), 12);
      out.append(reinterpret_cast<const char*>(rgba), 4);
    }
  }
  std::int32_t base = 0;
  for (const auto& node : scene.nodes) {
    for (const auto& t : node.mesh.triangles) {
      out.push_back(3);
      const std::int32_t idx[3] = {base + t[0], base + t[1], base + t[2]};
      out.append(reinterpret_cast<const char*>(idx), 12);
    }
    base += std::int32_t(node.mesh.vertices.size());
  }
  core::write_file_atomic(path, out);
}

MeshSummary read_ply(const std::filesystem::path& path, Mesh* mesh) {
  const std::string s = core::read_file(path);
  const std::string where = path.string();
  const std::size_t end = s.find("end_header\n");
  XL_CHECK(s.rfind("ply\n", 0) == 0 && end != std::string::npos, where, ": not a PLY file");
  std::istringstream header(s.substr(0, end));
  std::string line;
  std::size_t nv = 0, nf = 0;
  bool binary = false;
  while (std::getline(header, line)) {
    std::istringstream ls(line);
    std::string w, what;
    ls >> w;
    if (w == "format") binary = line.find("binary_little_endian 1.0") != std::string::npos;
    if (w == "element") {
      ls >> what;
      (what == "vertex" ? nv : nf) = 0;
      ls >> (what == "vertex" ? nv : nf);
    }
  }
  XL_CHECK(binary, where, ": expected format binary_little_endian 1.0 (the layout write_ply writes)");
  const std::size_t data = end + std::strlen("end_header\n");
  XL_CHECK(s.size() == data + nv * 16 + nf * 13, where, ": size ", s.size(), " does not match ", nv, " vertices and ",
           nf, " triangles");
  MeshSummary m;
  m.name = path.stem().string();
  m.vertex_count = nv;
  m.triangle_count = nf;
  Mesh local;
  Mesh& out = mesh ? *mesh : local;
  out.vertices.resize(nv);
  out.triangles.resize(nf);
  for (std::size_t i = 0; i < nv; ++i) {
    std::memcpy(out.vertices[i].data(), s.data() + data + 16 * i, 12);
    m.bounds.add(out.vertices[i].cast<double>());
  }
  const char* f = s.data() + data + nv * 16;
  for (std::size_t i = 0; i < nf; ++i) {
    XL_CHECK(f[13 * i] == 3, where, ": face ", i, " is not a triangle");
    std::memcpy(out.triangles[i].data(), f + 13 * i + 1, 12);
  }
  validate_mesh(out, where);
  return m;
}

void write_scene(const std::filesystem::path& path, const Scene& scene, HtmlViewer viewer) {
  const std::string ext = path.extension().string();
  if (ext == ".glb") return write_glb(path, scene);
  if (ext == ".obj") return write_obj(path, scene);
  if (ext == ".ply") return write_ply(path, scene);
  if (ext == ".html") return write_html(path, scene, "xraylift scene", viewer);
  throw core::InputError(
      core::cat("scene output ", path.string(), ": extension '", ext, "' is not one of .glb, .obj, .ply, .html"));
}

}  // namespace xraylift::viz
