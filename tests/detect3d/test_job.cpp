#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/data/phantom.hpp"
#include "xraylift/detect3d/job.hpp"
#include "xraylift/drr/render_case.hpp"
#include "xraylift/testing/phantoms.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
namespace fs = std::filesystem;

namespace {

fs::path rendered_case(const std::string& name) {
  const auto dir = xraylift::testing::scratch_dir(name);
  drr::render_case(xraylift::testing::make_phantom(9, {64, 64, 40}, {4.5, 4.5, 6.0}, 2, 12, 16, false).ct,
                   core::Rig::ring({}).with_detector_width(64), drr::RenderOptions{}, {}, dir / "views");
  return dir / "views" / "infos.json";
}

void edit(const fs::path& infos, const std::function<void(nlohmann::json&)>& change) {
  auto doc = nlohmann::json::parse(core::read_file(infos));
  change(doc);
  core::write_file_atomic(infos, doc.dump());
}

}  // namespace

TEST(Detect3DJob, ReadsEverySectionOfTheShippedConfigs) {
  for (const char* name : {"cpu_small.yaml", "seed_r50.yaml"}) {
    auto cfg = core::Config::load(xraylift::testing::source_dir() / "configs/detect3d" / name);
    const auto job = detect3d::Detect3DJob::from_config(cfg);
    cfg.get<std::string>("task", "");  // read by the commands
    core::Rig::from_config(cfg.section("rig"));
    EXPECT_NO_THROW(cfg.check_no_unknown_keys()) << name;
    EXPECT_EQ(job.method, "mv2d");
    EXPECT_EQ(job.trainer.loader.batch_size, 1) << name << ": MV2D trains one case per step";
    EXPECT_EQ(job.method_options.size(), detect3d::registered_methods().size()) << name;
  }
}

TEST(Detect3DJob, LoadViewsReadsImagesCamerasAndTruth) {
  const auto infos = rendered_case("d3_load_views");
  const auto v = detect3d::load_views(infos, {});
  EXPECT_EQ(v.images.sizes(), (torch::IntArrayRef{10, 1, 64, 64}));
  EXPECT_EQ(v.cameras.size(), 10u);
  EXPECT_EQ(v.truth.size(), 2u);
  EXPECT_GT(v.images.max().item<double>(), 0.1);
}

TEST(Detect3DJob, LoadViewsRejectsMismatchedSizesMissingCamerasAndEmptyCases) {
  const auto infos = rendered_case("d3_bad_views");
  const auto copy = infos.parent_path() / "copy.json";
  fs::copy_file(infos, copy);
  edit(copy, [](nlohmann::json& d) {
    d["cams"][3]["width"] = 32;
    d["cams"][3]["cam_intrinsic"][0][2] = 16.0;
  });
  try {
    detect3d::load_views(copy, {});
    FAIL() << "mismatched image sizes were accepted";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("mismatched image sizes"), std::string::npos) << e.what();
  }
  fs::copy_file(infos, copy, fs::copy_options::overwrite_existing);
  edit(copy, [](nlohmann::json& d) { d.erase("cams"); });
  EXPECT_THROW(detect3d::load_views(copy, {}), core::InputError);
  fs::copy_file(infos, copy, fs::copy_options::overwrite_existing);
  edit(copy, [](nlohmann::json& d) { d["cams"] = nlohmann::json::array(); });
  EXPECT_THROW(detect3d::load_views(copy, {}), core::InputError);
}
