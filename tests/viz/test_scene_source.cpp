// Which lung model a scene uses (viz/scene_source.hpp): the CT's when there is one, else the one fitted to the views,
// else (no fit) the template; the lung nodes say which.
#include <gtest/gtest.h>

#include <filesystem>

#include "xraylift/core/error.hpp"
#include "xraylift/core/npy.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/data/case.hpp"
#include "xraylift/drr/render_case.hpp"
#include "xraylift/testing/phantoms.hpp"
#include "xraylift/testing/testing.hpp"
#include "xraylift/viz/scene_source.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace {

// A coarse phantom rendered through a 96 px ring (the default field of view) into a view set, and its case folder.
struct Rendered {
  fs::path infos, case_dir;
};

const Rendered& rendered() {
  static const Rendered r = [] {
    const fs::path dir = xraylift::testing::scratch_dir("viz_scene_source");
    fs::remove_all(dir);
    data::Phantom ph = xraylift::testing::make_phantom(3, {96, 96, 64}, {3.6, 3.6, 5.0}, 1, 8, 10, false);
    core::RingSpec spec;
    spec.detector.width = spec.detector.height = 96;
    spec.detector.pixel_size_mm = 1024.0 * 0.78125 / 96;
    drr::render_case_folder(ph.ct, core::Rig::ring(spec), drr::RenderOptions{}, drr::ViewOutputOptions{}, dir / "views",
                            "test");
    data::save_case(dir / "case", ph.ct);
    return Rendered{dir / "views" / "infos.json", dir / "case"};
  }();
  return r;
}

std::string lung_model_of(const viz::LoadedScene& s) {
  for (const auto& n : s.scene.nodes)
    if (n.kind == viz::NodeKind::kLung) return n.info.value("lung_model", std::string());
  return {};
}

}  // namespace

// Catches: the views ignored (template drawn for a user with radiographs), the source not written into the scene.
TEST(SceneSource, ViewsGiveTheFittedLungModelAndTheSceneSaysSo) {
  viz::SceneInputs in;
  in.views = rendered().infos.string();
  in.generic = viz::PatientSpec{};  // the fallback, unused when the fit works
  const auto s = viz::load_scene(in, core::Rig::ring({}));
  EXPECT_EQ(s.lung_source, "views");
  EXPECT_EQ(lung_model_of(s), "views");
  EXPECT_EQ(s.lungs.lungs.size(), 2u);
  EXPECT_GT(s.lungs.total_ml(), 1000);
}

// Catches: a CT scene not reported as such; a CT and views both accepted (which would win is then unclear).
TEST(SceneSource, CtSceneSaysCtAndCtWithViewsIsAUsageError) {
  viz::SceneInputs ct;
  ct.ct = rendered().case_dir.string();
  ct.lung.voxel_mm = 4;  // test time: the coarse surface is enough here
  ct.lung.target_triangles = 2000;
  EXPECT_EQ(lung_model_of(viz::load_scene(ct, core::Rig::ring({}))), "ct");
  viz::SceneInputs both;  // a CT and views: two sources, a usage error
  both.ct = rendered().case_dir.string();
  both.views = rendered().infos.string();
  EXPECT_THROW(viz::load_scene(both, core::Rig::ring({})), core::ConfigError);
}

// A view set whose views show no lungs (every line integral 0): the fit fails; with --generic the template is
// drawn and the notes say why, without it the error reaches the caller.
TEST(SceneSource, FailedFitFallsBackToTheTemplate) {
  const fs::path dir = xraylift::testing::scratch_dir("viz_scene_source_empty");
  fs::remove_all(dir);
  fs::create_directories(dir);
  core::ViewSet set = core::read_view_set(rendered().infos);
  const std::vector<float> zeros(96 * 96, 0.0f);
  for (std::size_t v = 0; v < set.views.size(); ++v) {
    set.views[v].line_integral_path = core::cat("empty", v, ".npy");
    core::write_npy(dir / set.views[v].line_integral_path, zeros.data(), {96, 96});
  }
  core::write_view_set(dir / "infos.json", set);
  viz::SceneInputs in;
  in.views = (dir / "infos.json").string();
  EXPECT_THROW(viz::load_scene(in, core::Rig::ring({})), core::InputError);
  in.generic = viz::PatientSpec{};
  in.lung.target_triangles = 2000;
  const auto s = viz::load_scene(in, core::Rig::ring({}));
  EXPECT_EQ(s.lung_source, "template");
  EXPECT_EQ(lung_model_of(s), "template");
  bool said = false;
  for (const auto& n : s.notes) said = said || n.find("failed") != std::string::npos;
  EXPECT_TRUE(said);
}
