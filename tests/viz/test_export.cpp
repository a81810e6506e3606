#include <gtest/gtest.h>

#include <tiny_gltf.h>
#include <tiny_obj_loader.h>

#include <cstring>

#include "scene_fixture.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/testing/testing.hpp"
#include "xraylift/viz/axes.hpp"
#include "xraylift/viz/export.hpp"

using namespace xraylift;

namespace {

viz::Bounds gltf_bounds_of(const viz::Mesh& m) {
  viz::Bounds b;
  for (const auto& v : m.vertices) b.add(viz::lps_mm_to_gltf(v).cast<double>());
  return b;
}

}  // namespace

TEST(ExportGlb, ReadBackSameCountsBoundsAndMaterials) {
  const auto& scene = viz::testing::fixture_scene();
  const auto dir = xraylift::testing::scratch_dir("viz_glb");
  viz::write_glb(dir / "scene.glb", scene);
  const auto meshes = viz::read_glb(dir / "scene.glb");
  ASSERT_EQ(meshes.size(), scene.nodes.size());
  for (std::size_t i = 0; i < meshes.size(); ++i) {
    const auto& node = scene.nodes[i];
    EXPECT_EQ(meshes[i].name, node.name);
    EXPECT_EQ(meshes[i].vertex_count, node.mesh.vertex_count());
    EXPECT_EQ(meshes[i].triangle_count, node.mesh.triangle_count());
    const auto expected = gltf_bounds_of(node.mesh);
    EXPECT_TRUE(meshes[i].bounds.lo.isApprox(expected.lo, 1e-6)) << node.name;
    EXPECT_TRUE(meshes[i].bounds.hi.isApprox(expected.hi, 1e-6)) << node.name;
    EXPECT_EQ(meshes[i].alpha_mode, node.kind == viz::NodeKind::kLung ? "BLEND" : "OPAQUE") << node.name;
  }
  // Metres: the lungs are ~0.1-0.3 m, not 100-300.
  EXPECT_LT(meshes[0].bounds.hi.maxCoeff(), 0.5);
}

TEST(ExportGlb, CorruptFileIsAnInputError) {
  const auto dir = xraylift::testing::scratch_dir("viz_glb_bad");
  viz::write_glb(dir / "scene.glb", viz::testing::fixture_scene());
  std::string bytes = core::read_file(dir / "scene.glb");
  bytes.resize(bytes.size() - 8);
  core::write_file_atomic(dir / "cut.glb", bytes);
  EXPECT_THROW(viz::read_glb(dir / "cut.glb"), core::InputError);
  EXPECT_THROW(viz::write_scene(dir / "scene.stl", viz::testing::fixture_scene()), core::InputError);
}

TEST(ExportObj, TinyObjLoaderReadsSameVerticesBoundsAndDissolve) {
  const auto& scene = viz::testing::fixture_scene();
  const auto dir = xraylift::testing::scratch_dir("viz_obj");
  viz::write_obj(dir / "scene.obj", scene);
  const std::string obj = core::read_file(dir / "scene.obj");
  EXPECT_NE(obj.find("SPACE=LPS"), std::string::npos);
  tinyobj::attrib_t attrib;
  std::vector<tinyobj::shape_t> shapes;
  std::vector<tinyobj::material_t> materials;
  std::string warn, err;
  ASSERT_TRUE(tinyobj::LoadObj(&attrib, &shapes, &materials, &warn, &err, (dir / "scene.obj").c_str(), dir.c_str()))
      << err;
  std::size_t nv = 0;
  viz::Bounds expected;
  for (const auto& n : scene.nodes) {
    nv += n.mesh.vertex_count();
    const auto b = viz::bounds(n.mesh);
    expected.add(b.lo), expected.add(b.hi);
  }
  ASSERT_EQ(attrib.vertices.size(), 3 * nv);
  viz::Bounds got;
  for (std::size_t i = 0; i < nv; ++i)
    got.add({attrib.vertices[3 * i], attrib.vertices[3 * i + 1], attrib.vertices[3 * i + 2]});
  EXPECT_TRUE(got.lo.isApprox(expected.lo, 1e-5));
  EXPECT_TRUE(got.hi.isApprox(expected.hi, 1e-5));
  ASSERT_EQ(shapes.size(), scene.nodes.size());
  ASSERT_EQ(materials.size(), scene.nodes.size());
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    EXPECT_EQ(shapes[i].name, scene.nodes[i].name);
    EXPECT_EQ(shapes[i].mesh.indices.size(), 3 * scene.nodes[i].mesh.triangle_count());
    EXPECT_NEAR(materials[i].dissolve, scene.nodes[i].rgba[3], 1e-3);
  }
}

TEST(ExportPly, ReadBackSameMesh) {
  const auto& scene = viz::testing::fixture_scene();
  const auto dir = xraylift::testing::scratch_dir("viz_ply");
  viz::write_ply(dir / "scene.ply", scene);
  viz::Mesh back;
  const auto s = viz::read_ply(dir / "scene.ply", &back);
  viz::Mesh all;
  for (const auto& n : scene.nodes) all.append(n.mesh);
  EXPECT_EQ(s.vertex_count, all.vertex_count());
  EXPECT_EQ(s.triangle_count, all.triangle_count());
  const auto b = viz::bounds(all);
  EXPECT_TRUE(s.bounds.lo.isApprox(b.lo, 1e-6));
  EXPECT_TRUE(s.bounds.hi.isApprox(b.hi, 1e-6));
  EXPECT_NEAR(viz::signed_volume(back), viz::signed_volume(all), 1e-3 * std::abs(viz::signed_volume(all)));
}

TEST(ExportGlb, SceneRoundTripInWorldMillimetres) {
  const auto& scene = viz::testing::fixture_scene();
  const auto dir = xraylift::testing::scratch_dir("viz_glb_scene");
  viz::write_glb(dir / "scene.glb", scene);
  const viz::Scene back = viz::read_glb_scene(dir / "scene.glb");
  ASSERT_EQ(back.nodes.size(), scene.nodes.size());
  for (std::size_t i = 0; i < back.nodes.size(); ++i) {
    EXPECT_EQ(back.nodes[i].kind, scene.nodes[i].kind);
    EXPECT_EQ(back.nodes[i].translucent, scene.nodes[i].translucent);
    EXPECT_NEAR(back.nodes[i].rgba[3], scene.nodes[i].rgba[3], 1e-6);
    ASSERT_EQ(back.nodes[i].mesh.vertex_count(), scene.nodes[i].mesh.vertex_count());
    EXPECT_EQ(back.nodes[i].mesh.triangles, scene.nodes[i].mesh.triangles);
    for (std::size_t v = 0; v < back.nodes[i].mesh.vertex_count(); v += 97)
      EXPECT_LT((back.nodes[i].mesh.vertices[v] - scene.nodes[i].mesh.vertices[v]).norm(), 1e-3f);
  }
  EXPECT_EQ(back.find("nodule_p1_sphere")->info["score"].get<double>(), 0.6);
}

// Reads the .glb with tinygltf directly (not through read_glb): nodes, names, extras, accessors and their
// min/max against the data. Catches a writer whose JSON and BIN chunk disagree, min/max computed in the wrong
// frame (LPS mm instead of glTF metres), and node extras lost (score, kind).
TEST(ExportGlb, TinyGltfLoadsNodesAccessorsBoundsAndExtras) {
  const auto& scene = viz::testing::fixture_scene_with_evidence();
  const auto dir = xraylift::testing::scratch_dir("viz_glb_tinygltf");
  viz::write_glb(dir / "scene.glb", scene);
  tinygltf::Model model;
  tinygltf::TinyGLTF loader;
  std::string err, warn;
  ASSERT_TRUE(loader.LoadBinaryFromFile(&model, &err, &warn, (dir / "scene.glb").string())) << err;
  ASSERT_EQ(model.nodes.size(), scene.nodes.size());
  ASSERT_EQ(model.scenes.size(), 1u);
  EXPECT_EQ(model.scenes[0].nodes.size(), scene.nodes.size());
  for (std::size_t i = 0; i < scene.nodes.size(); ++i) {
    const auto& node = model.nodes[i];
    EXPECT_EQ(node.name, scene.nodes[i].name);
    ASSERT_TRUE(node.extras.Has("kind")) << node.name;
    EXPECT_EQ(node.extras.Get("kind").Get<std::string>(), viz::to_string(scene.nodes[i].kind));
    if (scene.nodes[i].info.contains("score"))
      EXPECT_NEAR(node.extras.Get("score").GetNumberAsDouble(), scene.nodes[i].info["score"].get<double>(), 1e-9);
    const auto& prim = model.meshes[std::size_t(node.mesh)].primitives.at(0);
    const auto& acc = model.accessors[std::size_t(prim.attributes.at("POSITION"))];
    ASSERT_EQ(acc.count, scene.nodes[i].mesh.vertex_count());
    const auto& view = model.bufferViews[std::size_t(acc.bufferView)];
    const unsigned char* data = model.buffers[0].data.data() + view.byteOffset + acc.byteOffset;
    viz::Bounds got;
    for (std::size_t v = 0; v < acc.count; ++v) {
      float p[3];
      std::memcpy(p, data + 12 * v, 12);
      got.add({p[0], p[1], p[2]});
    }
    const auto expected = gltf_bounds_of(scene.nodes[i].mesh);
    for (int a = 0; a < 3; ++a) {
      EXPECT_NEAR(acc.minValues.at(std::size_t(a)), expected.lo[a], 1e-6) << node.name;
      EXPECT_NEAR(acc.maxValues.at(std::size_t(a)), expected.hi[a], 1e-6) << node.name;
      EXPECT_NEAR(got.lo[a], expected.lo[a], 1e-6) << node.name;
      EXPECT_NEAR(got.hi[a], expected.hi[a], 1e-6) << node.name;
    }
    EXPECT_EQ(model.accessors[std::size_t(prim.indices)].count, 3 * scene.nodes[i].mesh.triangle_count());
  }
}
