#pragma once
// Scene exporters (coordinates per format: axes.hpp). All writes are atomic.
//   .glb : glTF 2.0 binary; one node + mesh + material per scene node, named like the node; lung shells
//          alphaMode BLEND (double-sided), nodules OPAQUE, attention spheres BLEND; node extras carry `info`.
//   .obj : Wavefront OBJ + sibling .mtl (Kd colour, d = opacity "dissolve"), one `o` object per node, LPS mm.
//   .ply : binary little-endian PLY, all nodes merged, per-vertex RGBA, LPS mm.
//   .html: one self-contained file with an embedded viewer: own WebGL code or three.js inlined (HtmlViewer).
#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/viz/scene.hpp"

namespace xraylift::viz {

void write_glb(const std::filesystem::path& path, const Scene& scene);
void write_obj(const std::filesystem::path& path, const Scene& scene);  // also writes path.stem() + ".mtl"
void write_ply(const std::filesystem::path& path, const Scene& scene);
// The HTML viewer's renderer: the own WebGL code (default) or three.js inlined from three_js_path().
enum class HtmlViewer { kWebGL, kThree };
HtmlViewer parse_html_viewer(const std::string& s);  // "webgl" | "three"; ConfigError otherwise
// three.min.js to inline: $XRAYLIFT_THREE_JS if set, else Debian libjs-three's /usr/share/javascript/three/.
std::filesystem::path three_js_path();
// kThree: ConfigError naming three_js_path() when the file is absent.
void write_html(const std::filesystem::path& path, const Scene& scene, const std::string& title = "xraylift scene",
                HtmlViewer viewer = HtmlViewer::kWebGL);
// Picks the writer by extension (.glb, .obj, .ply, .html); InputError for another extension.
void write_scene(const std::filesystem::path& path, const Scene& scene, HtmlViewer viewer = HtmlViewer::kWebGL);

// Read-back (for tests and for `xraylift export --check`): what a file holds, per mesh, in the file's frame.
struct MeshSummary {
  std::string name;
  std::size_t vertex_count = 0, triangle_count = 0;
  Bounds bounds;           // the file's coordinates (glTF: metres, Y up; OBJ/PLY: LPS mm)
  std::string alpha_mode;  // glTF only
  Eigen::Vector4f rgba{1, 1, 1, 1};
};
// Own parser of the GLB container, JSON chunk and BIN buffer views (POSITION accessors and uint32 indices);
// checks the header, chunk types and lengths, and that accessor min/max match the data.
std::vector<MeshSummary> read_glb(const std::filesystem::path& path);
// Loads a GLB written by write_glb back into a scene (world LPS mm): geometry, colours, kinds and info.
Scene read_glb_scene(const std::filesystem::path& path);
// Own parser for the binary PLY this module writes.
MeshSummary read_ply(const std::filesystem::path& path, Mesh* mesh = nullptr);

}  // namespace xraylift::viz
