// `xraylift lung-fields train`: the learned lung fields (drr/lung_field_net.hpp, docs/drr.md "Lung fields by a
// network") trained on view sets whose labels are their case's CT lung mask projected through the views;
// scripts/train_lung_fields.sh runs it.
//   xraylift lung-fields train VIEWS... --cases DIR -o models/lung_fields.safetensors [--iterations N] [--seed S]
// VIEWS: infos.json files or folders of view sets; DIR/<case_id> is each view set's case folder.
#include <chrono>
#include <filesystem>

#include "../command.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/progress.hpp"
#include "xraylift/data/case.hpp"
#include "xraylift/data/lung_segmentation.hpp"
#include "xraylift/drr/lung_field_net.hpp"
#include "xraylift/drr/visual_hull.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace lung_fields_command {

struct Options {
  std::vector<std::string> inputs;
  std::string cases, out;
  drr::LungFieldNetSpec spec;
  drr::LungFieldTrainOptions train;
  drr::LungFieldOptions fields;
};

tools::Runner setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.require_subcommand(1);
  auto* sub = app.add_subcommand("train", "Train the lung-field network on view sets and their cases' CT lung masks");
  sub->add_option("views", o->inputs, "infos.json view sets or folders of them")->required();
  sub->add_option("--cases", o->cases, "Folder of the case folders (<case_id>/): the labels")->required();
  sub->add_option("-o,--out", o->out, "The model (.safetensors)")->required();
  sub->add_option("--channels", o->spec.channels, "First level's channels")
      ->capture_default_str()
      ->check(tools::within(1, 256));
  sub->add_option("--levels", o->spec.levels, "U-Net levels")->capture_default_str()->check(tools::within(2, 5));
  sub->add_option("--input-px", o->spec.input_px, "The network's input size (px)")
      ->capture_default_str()
      ->check(tools::within(16, 1024));
  sub->add_option("--iterations", o->train.iterations, "Optimiser steps")
      ->capture_default_str()
      ->check(tools::within(1, 1e7));
  sub->add_option("--batch", o->train.batch, "Views per step")->capture_default_str()->check(tools::within(1, 4096));
  sub->add_option("--learning-rate", o->train.learning_rate, "Adam's learning rate (cosine decay)")
      ->capture_default_str()
      ->check(tools::within(1e-7, 0.999));
  sub->add_option("--seed", o->train.seed, "Seed")->capture_default_str();
  sub->add_option("--threads", o->train.threads, "Torch threads (0: torch's default)")
      ->capture_default_str()
      ->check(tools::within(0, 256));
  return [o] {
    o->spec.validate();
    o->train.validate();
    std::vector<fs::path> sets;
    for (const auto& in : o->inputs) {
      XL_CHECK(fs::exists(in), "lung-fields train: input '", in, "' does not exist");
      const std::vector<fs::path> found = tools::view_sets_under(in);
      XL_CHECK(!found.empty(), "lung-fields train: '", in, "' is neither an infos.json view set nor a folder of them");
      sets.insert(sets.end(), found.begin(), found.end());
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<drr::LungFieldSample> samples;
    std::string ids;
    double rule_dice = 0;
    core::Progress progress("lung-fields: samples", std::int64_t(sets.size()));
    for (const auto& s : sets) {
      const drr::ViewsLungs fit = drr::lungs_from_views(s, o->fields);
      const fs::path dir = fs::path(o->cases) / fit.case_id;
      XL_CHECK(fs::exists(dir / "case.json"), "lung-fields train --cases: no case folder ", dir.string(),
               " for view set ", s.string());
      const data::Case cs = data::load_case(dir);
      const auto labels = drr::projected_lung_fields(data::segment_lungs(cs.hu).labels, fit.cameras);
      for (std::size_t v = 0; v < labels.size(); ++v) rule_dice += drr::mask_dice(labels[v], fit.fields[v]);
      for (auto& sample : drr::lung_field_samples(fit, labels, o->spec.input_px)) samples.push_back(std::move(sample));
      ids += (ids.empty() ? "" : ",") + fit.case_id;
      progress.tick();
    }
    progress.finish();
    const double sample_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    core::log::info("lung-fields: ", samples.size(), " views of ", sets.size(), " case(s) in ", sample_seconds,
                    " s; the rule's field Dice on them ", rule_dice / double(samples.size()));
    drr::LungFieldTrainReport report;
    core::Progress training("lung-fields: training", o->train.iterations);
    o->train.on_iteration = [&](int, double loss) {
      training.set_status(core::cat("loss ", std::lround(loss * 1000) / 1000.0));
      training.tick();
    };
    const drr::LungFieldNet net = drr::train_lung_field_net(samples, o->spec, o->train, &report);
    training.finish();
    std::string curve;
    for (std::size_t i = 0; i < report.loss.size(); ++i)
      if (i % 5 == 0 || i + 1 == report.loss.size()) curve += core::cat(" ", report.loss[i]);
    const std::string provenance =
        core::cat("xraylift lung-fields train: ", samples.size(), " views of ", sets.size(), " cases (", ids, "), ",
                  o->train.iterations, " iterations, batch ", o->train.batch, ", seed ", o->train.seed, ", final loss ",
                  report.loss.empty() ? 0.0 : report.loss.back());
    net.save(o->out, provenance);
    core::log::info("lung-fields: loss (BCE + 1 - Dice) per 500 iterations:", curve);
    core::log::info("lung-fields: wrote ", o->out, " (", net.parameters(), " parameters; training ", report.seconds,
                    " s)");
    return 0;
  };
}

}  // namespace lung_fields_command

XL_REGISTER_COMMAND("lung-fields", "Train the lung-field network (where each view sees lung) on rendered view sets",
                    lung_fields_command::setup);
