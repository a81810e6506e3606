// The 3D-method interface (detect3d/method.hpp, job.hpp): registry, config idioms, weights with the method and rig
// recorded, and the predictor of one method.
#include <gtest/gtest.h>

#include "xraylift/core/error.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/detect2d/weights.hpp"
#include "xraylift/detect3d/fusion/config.hpp"
#include "xraylift/detect3d/job.hpp"
#include "xraylift/detect3d/mv2d.hpp"
#include "xraylift/detect3d/mv2d_config.hpp"
#include "xraylift/detect3d/triangulate.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
namespace fs = std::filesystem;

namespace {

// A trainable test method with a head of its own (one linear layer next to the detector), to check what the shipped
// methods cannot show alone: weights of one trainable method refused by another.
class ProbeMethod : public detect3d::Method {
 public:
  explicit ProbeMethod(const detect2d::ModelConfig& m) : Method("zz_probe") {
    model_ = std::make_shared<torch::nn::Module>();
    detector_ = model_->register_module("backbone", detect2d::FasterRCNN(m)->backbone);
    head_ = model_->register_module("probe_head", torch::nn::Linear(2, 2));
  }
  std::shared_ptr<torch::nn::Module> module() const override { return model_; }
  std::vector<std::string> own_prefixes() const override { return {"probe_head."}; }
  detect3d::CasePrediction predict(const detect3d::CaseViews&) override { return {}; }

 private:
  std::shared_ptr<torch::nn::Module> model_;
  std::shared_ptr<torch::nn::Module> detector_;
  torch::nn::Linear head_{nullptr};
};

const bool probe_registered = [] {
  detect3d::MethodSpec s;
  s.name = "zz_probe";
  s.summary = "test only";
  s.trainable = true;
  s.parse = [](const core::Config& section, const detect3d::SceneRange&, const core::Config&) -> std::any {
    section.check_section_keys({});
    return 0;
  };
  s.make = [](const detect2d::ModelConfig& m, const std::any&) -> std::unique_ptr<detect3d::Method> {
    return std::make_unique<ProbeMethod>(m);
  };
  return detect3d::register_method(s);
}();

core::Config small_config() {
  return core::Config::load(xraylift::testing::source_dir() / "configs/detect3d/cpu_small.yaml");
}

std::string config_error(const std::string& yaml) {
  try {
    detect3d::Detect3DJob::from_config(core::Config::from_yaml(yaml, "bad.yaml"));
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "<no ConfigError>";
}

}  // namespace

TEST(Method, RegistryListsEveryMethodByNameAndRefusesAnother) {
  ASSERT_TRUE(probe_registered);
  std::vector<std::string> names;
  for (const auto& m : detect3d::registered_methods()) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{"fusion", "mv2d", "mv2d_fusion", "triangulate", "zz_probe"}));  // sorted
  try {
    detect3d::method_spec("voxels", "x.yaml");
    FAIL();
  } catch (const core::ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("fusion | mv2d | mv2d_fusion | triangulate"), std::string::npos) << msg;
    EXPECT_NE(msg.find("x.yaml"), std::string::npos) << msg;
  }
  EXPECT_NE(config_error("detect3d:\n  method: voxels\n").find("'voxels'"), std::string::npos);
}

TEST(Method, EveryMethodSectionRefusesUnknownKeysAndMetreScalesAsConfigErrors) {
  // Catches a method whose section skips the unknown-key check (Mv2dConfig did) and a scene box that exits 3.
  for (const char* yaml :
       {"detect3d:\n  mv2d:\n    layerz: 3\n", "detect3d:\n  triangulate:\n    min_veiws: 3\n",
        "detect3d:\n  fusion:\n    net: {chanels: 8}\n", "detect3d:\n  zz_probe:\n    anything: 1\n"}) {
    const auto msg = config_error(yaml);
    EXPECT_NE(msg.find("unknown key"), std::string::npos) << yaml << ": " << msg;
    EXPECT_NE(msg.find("bad.yaml"), std::string::npos) << yaml << ": " << msg;
  }
  const auto metres = config_error("detect3d:\n  scene: {min_mm: [-0.2, -0.2, -0.2], max_mm: [0.2, 0.2, 0.2]}\n");
  EXPECT_NE(metres.find("detect3d.scene"), std::string::npos) << metres;
  EXPECT_NE(metres.find("millimetres"), std::string::npos) << metres;
  EXPECT_NE(config_error("detect3d:\n  mv2d:\n    layers: 0\n").find("bad.yaml"), std::string::npos);
  // One scene box for every method.
  const auto job = detect3d::Detect3DJob::from_config(
      core::Config::from_yaml("detect3d:\n  scene: {min_mm: [-150, -150, -150], max_mm: [150, 150, 180]}\n", "s"));
  EXPECT_DOUBLE_EQ(detect3d::mv2d_head_options(job.method_options.at("mv2d")).range.max_mm.z(), 180);
  EXPECT_DOUBLE_EQ(
      std::any_cast<const detect3d::TriangulateOptions&>(job.method_options.at("triangulate")).scene.max_mm.z(), 180);
  EXPECT_DOUBLE_EQ(
      std::any_cast<const detect3d::fusion::FusionConfig&>(job.method_options.at("fusion")).scene.max_mm.z(), 180);
}

TEST(Method, OnlyMethodsWithParametersOfTheirOwnTrain) {
  auto cfg = small_config();
  const auto job = detect3d::Detect3DJob::from_config(cfg);
  EXPECT_NO_THROW(job.make_method("mv2d")->loss_function(torch::kCPU));
  try {
    job.make_method("triangulate")->loss_function(torch::kCPU);
    FAIL() << "triangulate has nothing to train";
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("task: detect2d"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(job.make_method("triangulate")->has_own_parameters());
  EXPECT_TRUE(job.make_method("mv2d")->has_own_parameters());
  EXPECT_TRUE(job.make_method("fusion")->has_own_parameters());
  EXPECT_NO_THROW(job.make_method("fusion")->loss_function(torch::kCPU));
}

TEST(Method, WeightsRecordMethodAndRigAndAreRefusedByAnotherTrainedMethod) {
  torch::manual_seed(2);
  const auto dir = xraylift::testing::scratch_dir("method_weights");
  const auto job = detect3d::Detect3DJob::from_config(small_config());
  const core::Rig rig = core::Rig::ring(core::RingSpec{}).with_detector_width(128);
  const auto a = job.make_method("mv2d");
  detect3d::save_method_weights(dir / "mv2d.safetensors", *a, core::trained_rig_of(rig.cameras()));
  EXPECT_EQ(detect2d::read_weights_metadata(dir / "mv2d.safetensors").at("xraylift.method"), "mv2d");

  const auto b = job.make_method("mv2d");
  const auto trained = detect3d::load_method_weights(dir / "mv2d.safetensors", *b, detect3d::WeightsUse::kPredict);
  ASSERT_EQ(trained.sources.size(), 10u);
  auto b_params = b->module()->named_parameters();
  for (const auto& p : a->module()->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), b_params[p.key()]));
  EXPECT_NO_THROW(core::check_rig(trained, rig.cameras(), "test"));
  core::RingSpec clinical;
  clinical.sad_mm = 1000, clinical.sdd_mm = 1500;
  EXPECT_THROW(core::check_rig(trained, core::Rig::ring(clinical).with_detector_width(128).cameras(), "t"),
               core::InputError);
  EXPECT_THROW(core::check_rig(trained, core::Rig::ring(core::RingSpec{}).with_detector_width(256).cameras(), "t"),
               core::InputError);

  // triangulate runs on the file's 2D detector; another trained method refuses it by name.
  const auto tri = job.make_method("triangulate");
  EXPECT_NO_THROW(detect3d::load_method_weights(dir / "mv2d.safetensors", *tri, detect3d::WeightsUse::kPredict));
  auto tri_params = tri->module()->named_parameters();
  for (const auto& p : tri_params) EXPECT_TRUE(torch::equal(p.value(), a->module()->named_parameters()[p.key()]));
  const auto probe = job.make_method("zz_probe");
  try {
    detect3d::load_method_weights(dir / "mv2d.safetensors", *probe, detect3d::WeightsUse::kPredict);
    FAIL() << "weights of mv2d loaded for another trained method";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("weights of method 'mv2d'"), std::string::npos) << e.what();
  }
  // ...but its detector initializes that method's training.
  EXPECT_NO_THROW(detect3d::load_method_weights(dir / "mv2d.safetensors", *probe, detect3d::WeightsUse::kInitialize));

  // A detector-only file (detect2d's) serves triangulate and initializes mv2d, but does not predict with mv2d.
  std::map<std::string, torch::Tensor> only2d;
  for (const auto& p : tri->module()->named_parameters()) only2d[p.key()] = p.value();
  for (const auto& p : tri->module()->named_buffers()) only2d[p.key()] = p.value();
  detect2d::write_safetensors(dir / "d2.safetensors", only2d);
  EXPECT_NO_THROW(detect3d::load_method_weights(dir / "d2.safetensors", *tri, detect3d::WeightsUse::kPredict));
  EXPECT_NO_THROW(detect3d::load_method_weights(dir / "d2.safetensors", *b, detect3d::WeightsUse::kInitialize));
  EXPECT_THROW(detect3d::load_method_weights(dir / "d2.safetensors", *b, detect3d::WeightsUse::kPredict),
               core::InputError);

  // Another architecture: the error names the first mismatched tensor.
  auto wide = small_config();
  wide.set("detect3d.mv2d.d_model=128");
  const auto c = detect3d::Detect3DJob::from_config(wide).make_method("mv2d");
  try {
    detect3d::load_method_weights(dir / "mv2d.safetensors", *c, detect3d::WeightsUse::kPredict);
    FAIL() << "loaded weights of another architecture";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("head3d."), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("another architecture"), std::string::npos) << e.what();
  }
}

TEST(Method, TheShippedWeightsLoadForEveryShippedMethod) {
  // The demo weights were written before methods were recorded: they must keep loading (the demo prints their CPM).
  const auto weights = xraylift::testing::source_dir() / "models/demo_tiny.safetensors";
  if (!fs::exists(weights)) GTEST_SKIP() << "no " << weights;
  const auto job = detect3d::Detect3DJob::from_config(small_config());
  for (const char* name : {"mv2d", "triangulate"}) {
    detect3d::Predictor predictor(job, name, weights, torch::kCPU);
    EXPECT_EQ(predictor.method(), name);
    EXPECT_EQ(predictor.rig().sources.size(), 10u) << name;
  }
  // mv2d_fusion's own file (scripts/train_mv2d_fusion.sh) holds the detector, its head and the fusion model.
  const auto fused = xraylift::testing::source_dir() / "models/mv2d_fusion.safetensors";
  if (fs::exists(fused)) {
    detect3d::Predictor predictor(job, "mv2d_fusion", fused, torch::kCPU);
    EXPECT_EQ(predictor.rig().sources.size(), 10u);
  }
  // A trained method whose weights the file does not hold says so by name (the demo skips it with this reason).
  try {
    detect3d::Predictor fusion(job, "fusion", weights, torch::kCPU);
    FAIL() << "the shipped file has no fusion weights";
  } catch (const detect3d::NoWeightsForMethod& e) {  // the demo skips exactly this, and no other error
    EXPECT_NE(std::string(e.what()).find("holds no weights of method 'fusion'"), std::string::npos) << e.what();
  }
}

TEST(Method, ProposalSourcesDefaultToTheOfficialPathAndBadNamesAreConfigErrors) {
  // mv2d's default is the official path; mv2d_fusion starts from the fused candidates and reads the fusion model's
  // options from `detect3d.fusion`. A bad source is a ConfigError (exit 2) naming the key and the file.
  const auto job = detect3d::Detect3DJob::from_config(small_config());
  EXPECT_EQ(detect3d::mv2d_head_options(job.method_options.at("mv2d")).proposal_sources,
            (std::vector<std::string>{"detect2d"}));
  const auto& fused = detect3d::mv2d_head_options(job.method_options.at("mv2d_fusion"));
  EXPECT_EQ(fused.proposal_sources, (std::vector<std::string>{"fusion"}));
  EXPECT_EQ(fused.fusion_top_k, 20);
  EXPECT_TRUE(fused.freeze_detector);
  EXPECT_DOUBLE_EQ(fused.fusion_score_weight, 1.0);
  // Only a method that starts from the fused candidates has their heatmap to show (predict --heatmap, scenes).
  EXPECT_FALSE(job.make_method("mv2d")->gives_evidence());
  EXPECT_TRUE(job.make_method("mv2d_fusion")->gives_evidence());
  EXPECT_EQ(job.make_method("mv2d")->borrowed_prefixes(), std::vector<std::string>{});
  EXPECT_EQ(job.make_method("mv2d_fusion")->borrowed_prefixes(), (std::vector<std::string>{"fusion."}));
  for (const char* yaml : {"detect3d:\n  mv2d:\n    proposals: {sources: [detect2d, voxels]}\n",
                           "detect3d:\n  mv2d_fusion:\n    proposals: {sources: []}\n",
                           "detect3d:\n  mv2d:\n    proposals: {sources: [fusion, fusion]}\n"}) {
    const auto msg = config_error(yaml);
    EXPECT_NE(msg.find("proposals.sources"), std::string::npos) << yaml << ": " << msg;
    EXPECT_NE(msg.find("bad.yaml"), std::string::npos) << yaml << ": " << msg;
  }
  EXPECT_NE(config_error("detect3d:\n  mv2d:\n    proposals: {fusion_candidates: {top_k: 0}}\n")
                .find("proposals.fusion_candidates.top_k"),
            std::string::npos);
  // A file without the fusion model's tensors does not serve mv2d_fusion, and says which prefix it lacks.
  const auto weights = xraylift::testing::source_dir() / "models/demo_tiny.safetensors";
  if (!fs::exists(weights)) GTEST_SKIP() << "no " << weights;
  try {
    detect3d::Predictor p(job, "mv2d_fusion", weights, torch::kCPU);
    FAIL() << "loaded mv2d_fusion without the fusion model";
  } catch (const detect3d::NoWeightsForMethod& e) {
    EXPECT_NE(std::string(e.what()).find("'fusion.'"), std::string::npos) << e.what();
  }
}
