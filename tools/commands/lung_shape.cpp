// `xraylift lung-shape train`: the parametric lung model (drr/lung_shape.hpp, docs/viz.md "Lung model from the
// views") trained on the CT lung masks (data::segment_lungs) of case folders; scripts/train_lung_shape.sh runs it.
//   xraylift lung-shape train CASES... -o models/lung_shape.safetensors [--iterations N] [--seed S]
// CASES: case folders or folders of them (<dir>/<case>/case.json, e.g. a phantom dataset's cases/).
#include <chrono>
#include <filesystem>

#include "../command.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/data/case.hpp"
#include "xraylift/data/lung_segmentation.hpp"
#include "xraylift/drr/lung_shape.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace lung_shape_command {

struct Options {
  std::vector<std::string> inputs;
  std::string out;
  int grid = 64;
  drr::LungShapeSpec spec;
  drr::LungShapeTrainOptions train;
};

std::vector<fs::path> case_folders(const fs::path& p) {
  if (fs::exists(p / "case.json")) return {p};
  std::vector<fs::path> out;
  if (fs::is_directory(p))
    for (const auto& e : fs::directory_iterator(p))
      if (fs::exists(e.path() / "case.json")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  if (out.empty())
    throw core::InputError(
        core::cat("lung-shape train: '", p.string(), "' is neither a case folder (case.json) nor a folder of them"));
  return out;
}

tools::Runner setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.require_subcommand(1);
  auto* sub = app.add_subcommand("train", "Train the lung shape model on the CT lung masks of case folders");
  sub->add_option("cases", o->inputs, "Case folders or folders of them")->required();
  sub->add_option("-o,--out", o->out, "The model (.safetensors)")->required();
  sub->add_option("--grid", o->grid, "SDF lattice per shape (cells per axis)")
      ->capture_default_str()
      ->check(tools::within(8, 160));
  sub->add_option("--latent", o->spec.latent, "Code size")->capture_default_str()->check(tools::within(1, 512));
  sub->add_option("--width", o->spec.width, "Hidden units")->capture_default_str()->check(tools::within(4, 2048));
  sub->add_option("--layers", o->spec.layers, "Hidden layers")->capture_default_str()->check(tools::within(1, 16));
  sub->add_option("--iterations", o->train.iterations, "Optimiser steps")
      ->capture_default_str()
      ->check(tools::within(1, 1e7));
  sub->add_option("--points", o->train.points_per_shape, "SDF samples per shape and step")
      ->capture_default_str()
      ->check(tools::within(2, 1e6));
  sub->add_option("--batch", o->train.shapes_per_batch, "Shapes per step")
      ->capture_default_str()
      ->check(tools::within(1, 4096));
  sub->add_option("--seed", o->train.seed, "Seed")->capture_default_str();
  sub->add_option("--threads", o->train.threads, "Torch threads (0: torch's default)")
      ->capture_default_str()
      ->check(tools::within(0, 256));
  return [o] {
    std::vector<fs::path> cases;
    for (const auto& in : o->inputs) {
      XL_CHECK(fs::exists(in), "lung-shape train: input '", in, "' does not exist");
      for (const auto& c : case_folders(in)) cases.push_back(c);
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<drr::LungShapeSamples> shapes;
    std::string ids;
    for (const auto& c : cases) {
      const data::Case cs = data::load_case(c);
      const data::LungSegmentation lungs = data::segment_lungs(cs.hu);
      shapes.push_back(drr::lung_shape_samples(lungs.labels, cs.id, o->grid));
      ids += (ids.empty() ? "" : ",") + cs.id;
      core::log::info("lung-shape: ", cs.id, ": ", std::lround(lungs.total_ml()), " mL, box ",
                      (2 * shapes.back().half_extent).transpose(), " mm");
    }
    const double sample_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    drr::LungShapeTrainReport report;
    const drr::LungShapeModel model = drr::train_lung_shape(shapes, o->spec, o->train, &report);
    std::string curve;
    for (std::size_t i = 0; i < report.loss.size(); ++i)
      if (i % 5 == 0 || i + 1 == report.loss.size()) curve += core::cat(" ", report.loss[i]);
    const std::string provenance = core::cat("xraylift lung-shape train: ", shapes.size(), " shapes (", ids, "), grid ",
                                             o->grid, ", ", o->train.iterations, " iterations, seed ", o->train.seed,
                                             ", final clamped L1 ", report.loss.empty() ? 0.0 : report.loss.back());
    model.save(o->out, provenance);
    core::log::info("lung-shape: clamped L1 per 500 iterations:", curve);
    core::log::info("lung-shape: wrote ", o->out, " (", shapes.size(), " shapes; samples ", sample_seconds,
                    " s, training ", report.seconds, " s)");
    return 0;
  };
}

}  // namespace lung_shape_command

XL_REGISTER_COMMAND("lung-shape", "Train the parametric lung model (the shape prior of the lung fit from the views)",
                    lung_shape_command::setup);
