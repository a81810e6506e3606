// `xraylift data import|phantom|insert|info|stats`: datasets in the case format (NRRD + JSON, docs/data.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include "../command.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/interrupt.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/progress.hpp"
#include "xraylift/data/anatomy_stats.hpp"
#include "xraylift/data/case.hpp"
#include "xraylift/data/dicom.hpp"
#include "xraylift/data/drr_spectrum.hpp"
#include "xraylift/data/insert.hpp"
#include "xraylift/data/lidc_import.hpp"
#include "xraylift/data/manifest.hpp"
#include "xraylift/data/nrrd.hpp"
#include "xraylift/data/phantom.hpp"
#include "xraylift/data/synthetic_lidc.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace {

std::string clip(const std::string& s, std::size_t n) { return s.size() <= n ? s : s.substr(0, n - 3) + "..."; }

void print_nodules(const std::vector<core::BoxRecord>& boxes) {
  if (boxes.empty()) {
    std::printf("nodules: none\n");
    return;
  }
  std::printf("%-6s %-11s %-26s %-22s %8s %7s %s\n", "id", "label", "centre (x, y, z) mm", "size (dx, dy, dz) mm",
              "diam mm", "readers", "ignore");
  for (const auto& b : boxes)
    std::printf("%-6s %-11s (%7.1f %7.1f %7.1f)  (%5.1f %5.1f %5.1f)       %8.1f %7d %s\n", clip(b.id, 6).c_str(),
                clip(b.label, 11).c_str(), b.box.center.x(), b.box.center.y(), b.box.center.z(), b.box.size.x(),
                b.box.size.y(), b.box.size.z(), b.diameter(), b.readers, b.ignore ? "yes" : "no");
}

void print_volume(const core::VolumeI16& v) {
  const auto& g = v.geometry();
  std::int16_t lo = 32767, hi = -32768;
  for (auto x : v.values()) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  std::printf("dims     %d x %d x %d\n", g.dims.x(), g.dims.y(), g.dims.z());
  std::printf("spacing  %.6g x %.6g x %.6g mm\n", g.spacing.x(), g.spacing.y(), g.spacing.z());
  std::printf("extent   %.1f x %.1f x %.1f mm (world frame LPS, centred: centre at (%.3g, %.3g, %.3g))\n",
              g.extent_mm().x(), g.extent_mm().y(), g.extent_mm().z(), g.center_world().x(), g.center_world().y(),
              g.center_world().z());
  std::printf("HU range [%d, %d]\n", lo, hi);
}

// ---- import ----
struct ImportOpts {
  std::string lidc, out;
  double min_diameter = 3.0;
  int min_readers = 1;
  unsigned long seed = 0;
  double train_fraction = 0.8;
  bool include_contour_points = false;
};

void setup_import(CLI::App& app, std::shared_ptr<ImportOpts> o, std::function<int()>& run) {
  auto* sub = app.add_subcommand("import",
                                 "Import a LIDC-IDRI download (series folders + XML) into case folders and a manifest");
  sub->add_option("--lidc", o->lidc, "LIDC-IDRI folder (searched recursively)")->required();
  sub->add_option("--out", o->out, "Output dataset folder (cases/<id>/, manifest.json)")->required();
  sub->add_option("--min-diameter", o->min_diameter, "Nodules below this diameter (mm) are kept with ignore = true")
      ->capture_default_str();
  sub->add_option("--min-readers", o->min_readers, "Nodules contoured by fewer readers are kept with ignore = true")
      ->capture_default_str();
  sub->add_flag(
      "--include-contour-points", o->include_contour_points,
      "Count the outline pixels as nodule (default: left out, as pylidc; LIDC outlines run outside the nodule)");
  sub->add_option("--seed", o->seed, "Seed of the train/val split by patient")->capture_default_str();
  sub->add_option("--train-fraction", o->train_fraction, "Fraction of patients in the train split")
      ->capture_default_str();
  sub->callback([o, &run] {
    run = [o] {
      data::LidcImportOptions io;
      io.nodules.min_diameter_mm = o->min_diameter;
      io.nodules.min_readers = o->min_readers;
      io.nodules.include_contour_points = o->include_contour_points;
      io.split_seed = o->seed;
      io.train_fraction = o->train_fraction;
      XL_USAGE_CHECK(o->min_readers >= 1 && o->min_readers <= 4, "--min-readers = ", o->min_readers, ", expected 1..4");
      const auto sum = data::import_lidc(o->lidc, o->out, io);
      int train = 0, nodules = 0, ignored = 0;
      for (const auto& c : sum.manifest.cases) {
        train += c.split == "train";
        nodules += c.nodules;
        ignored += c.nodules_ignored;
      }
      std::printf("\n%-28s %d\n", "series folders", sum.series_folders);
      std::printf("%-28s %zu (train %d, val %zu)\n", "cases imported", sum.manifest.cases.size(), train,
                  sum.manifest.cases.size() - train);
      std::printf("%-28s %d (+ %d ignored: sub-3 mm, non-nodules, few readers)\n", "nodules", nodules, ignored);
      for (const char* bucket : {"<3 mm", "3-6 mm", "6-10 mm", "10-20 mm", ">=20 mm"}) {
        const auto it = sum.nodules_by_size.find(bucket);
        std::printf("  %-26s %d\n", bucket, it == sum.nodules_by_size.end() ? 0 : it->second);
      }
      std::printf("%-28s %zu\n", "skipped", sum.manifest.skipped.size());
      if (!sum.annotation_errors.empty())
        std::printf("%-28s %zu (CT imported without them)\n", "annotation files dropped", sum.annotation_errors.size());
      for (const auto& e : sum.annotation_errors) std::printf("  %s\n", e.c_str());
      for (const auto& s : sum.manifest.skipped) std::printf("  %s\n    why: %s\n", s.path.c_str(), s.reason.c_str());
      if (!sum.notices.empty()) std::printf("notices:\n");
      for (const auto& n : sum.notices) std::printf("  %s\n", n.c_str());
      if (!sum.warnings.empty()) core::log::info(sum.warnings.size(), " reader warnings (see case.json meta.warnings)");
      core::log::info("wrote ", (fs::path(o->out) / "manifest.json").string(), " and ", sum.manifest.cases.size(),
                      " case folders under ", (fs::path(o->out) / "cases").string());
      return sum.manifest.cases.empty() ? static_cast<int>(core::ExitCode::kInputData) : 0;
    };
  });
}

// ---- phantom ----
struct PhantomOpts {
  int count = 1;
  std::string out;
  unsigned long seed = 0;
  bool dicom = false;
  int readers = 4;
  std::unique_ptr<tools::ConfigOptions> config;
};

void setup_phantom(CLI::App& app, std::shared_ptr<PhantomOpts> o, std::function<int()>& run) {
  auto* sub = app.add_subcommand("phantom", "Generate synthetic chest CT phantoms with known nodules");
  sub->add_option("--count", o->count, "Number of phantoms")->capture_default_str();
  sub->add_option("--out", o->out, "Output dataset folder (cases/<id>/ with labels.nrrd, manifest.json)")->required();
  sub->add_option("--seed", o->seed, "Seed of the first phantom (phantom i uses seed + i)")->capture_default_str();
  sub->add_flag("--dicom", o->dicom, "Also write each phantom as a DICOM series + LIDC-style XML under lidc/<id>/");
  sub->add_option("--readers", o->readers, "Simulated readers in the XML (1..4)")->capture_default_str();
  o->config = std::make_unique<tools::ConfigOptions>(*sub);
  sub->footer(
      "Config keys (under phantom.): anatomy (simple | chest; configs/data/phantom_chest.yaml), dims, spacing_mm, "
      "nodules, nodule_min_diameter_mm, nodule_max_diameter_mm, noise_hu, vessels, and for chest: chest_version "
      "(2, matched to real CT; 1, the shipped weights' phantoms), vessel_terminal_radius_mm (0: the version's), "
      "contrast_probability, dense_vein_probability (docs/data.md \"Anatomy models\", \"Contrast\").");
  sub->callback([o, &run] {
    run = [o] {
      core::Config cfg = o->config->load();
      data::PhantomSpec base = data::phantom_spec_from_config(cfg.section("phantom"));
      cfg.check_no_unknown_keys();
      XL_USAGE_CHECK(o->count >= 1 && o->count <= 100000, "--count = ", o->count, ", expected 1..100000");
      XL_USAGE_CHECK(o->readers >= 1 && o->readers <= 4, "--readers = ", o->readers, ", expected 1..4");
      const fs::path out(o->out);
      data::Manifest manifest;
      core::Progress progress("phantom", o->count);
      bool stopped = false;
      for (int i = 0; i < o->count; ++i) {
        if ((stopped = core::interrupt_requested())) break;
        data::PhantomSpec spec = base;
        spec.seed = o->seed + static_cast<unsigned long>(i);
        char id[32];
        std::snprintf(id, sizeof id, "phantom-%04lu", static_cast<unsigned long>(spec.seed));
        spec.id = id;
        const data::Phantom ph = data::generate_phantom(spec);
        data::save_case(out / "cases" / id, ph.ct, ph.labels);
        if (o->dicom) {
          data::SimulatedReadOptions ro;
          ro.readers = o->readers;
          data::write_phantom_as_lidc(out / "lidc" / id, ph, ro);
        }
        manifest.cases.push_back(data::manifest_entry(ph.ct, std::string("cases/") + id, id));
        progress.tick();
      }
      progress.finish();
      // An interrupted run still lists the cases it finished, so they are not lost.
      data::assign_splits(manifest, o->seed, 0.8);
      data::write_manifest(out / "manifest.json", manifest);
      if (stopped)
        throw core::Interrupted(core::cat("data phantom: stopped after ", manifest.cases.size(), " of ", o->count,
                                          " case(s); ", (out / "manifest.json").string(), " lists them"));
      int nodules = 0;
      for (const auto& c : manifest.cases) nodules += c.nodules;
      core::log::info("wrote ", o->count, " phantom case folders (", nodules, " nodules) under ",
                      (out / "cases").string(),
                      o->dicom ? " plus DICOM + XML under " + (out / "lidc").string() : std::string(), " and ",
                      (out / "manifest.json").string());
      return 0;
    };
  });
}

// ---- insert ----
struct InsertOpts {
  std::string ct, out, id;
  unsigned long seed = 0;
  int count = 3;
  double min_d = 5, max_d = 20;
};

data::Case load_any_case(const fs::path& p, const std::string& id_hint) {
  XL_CHECK(fs::exists(p), "'", p.string(), "' does not exist");
  if (fs::is_directory(p) && fs::exists(p / "case.json")) return data::load_case(p);
  const data::DicomSeries s = data::read_dicom_series(p);
  for (const auto& w : s.warnings) core::log::warn(w);
  return data::case_from_series(
      s, !id_hint.empty() ? id_hint : (!s.patient_id.empty() ? s.patient_id : p.filename().string()));
}

void setup_insert(CLI::App& app, std::shared_ptr<InsertOpts> o, std::function<int()>& run) {
  auto* sub =
      app.add_subcommand("insert", "Blend synthetic nodules into a real CT's lungs (a test case with known truth)");
  sub->add_option("--ct", o->ct, "A DICOM series folder or a case folder")->required();
  sub->add_option("--out", o->out, "Output case folder")->required();
  sub->add_option("--count", o->count, "Number of nodules")->capture_default_str();
  sub->add_option("--seed", o->seed, "Seed")->capture_default_str();
  sub->add_option("--min-diameter", o->min_d, "Smallest nodule diameter, mm")->capture_default_str();
  sub->add_option("--max-diameter", o->max_d, "Largest nodule diameter, mm")->capture_default_str();
  sub->add_option("--id", o->id, "Case id (default: <input id>-insert-<seed>)");
  sub->callback([o, &run] {
    run = [o] {
      const data::Case input = load_any_case(o->ct, "");
      data::InsertSpec spec;
      spec.seed = o->seed;
      spec.nodules = o->count;
      spec.min_diameter_mm = o->min_d;
      spec.max_diameter_mm = o->max_d;
      data::InsertResult r = data::insert_nodules(input, spec);
      r.ct.id = o->id.empty() ? core::cat(input.id, "-insert-", o->seed) : o->id;
      data::save_case(o->out, r.ct);
      print_nodules(r.ct.nodules);
      core::log::info("wrote case folder ", o->out, " (", r.inserted.size(), " inserted nodules, ",
                      input.nodules.size(), " kept from the input)");
      return 0;
    };
  });
}

// ---- info ----
void setup_info(CLI::App& app, std::shared_ptr<std::string> path, std::function<int()>& run) {
  auto* sub = app.add_subcommand(
      "info", "Print a case, manifest, NRRD volume or DICOM series: dims, spacing, HU range, nodules");
  sub->add_option("path", *path, "Case folder, manifest.json, .nrrd file or DICOM folder")->required();
  sub->callback([path, &run] {
    run = [path] {
      const fs::path p(*path);
      XL_CHECK(fs::exists(p), "'", p.string(), "' does not exist");
      if (p.extension() == ".json" && fs::is_regular_file(p)) {
        const auto m = data::read_manifest(p);
        std::printf("manifest %s: %zu cases, %zu skipped\n", p.string().c_str(), m.cases.size(), m.skipped.size());
        std::printf("%-22s %-8s %-6s %-16s %8s %8s\n", "id", "source", "split", "dims", "nodules", "ignored");
        for (const auto& c : m.cases)
          std::printf("%-22s %-8s %-6s %4dx%4dx%4d    %8d %8d\n", clip(c.id, 22).c_str(), c.source.c_str(),
                      c.split.c_str(), c.dims.x(), c.dims.y(), c.dims.z(), c.nodules, c.nodules_ignored);
        for (const auto& s : m.skipped) std::printf("skipped %s: %s\n", s.path.c_str(), s.reason.c_str());
        return 0;
      }
      if (p.extension() == ".nrrd") {
        print_volume(data::read_nrrd(p));
        return 0;
      }
      const data::Case c = load_any_case(p, "");
      std::printf("case     %s (source %s)\n", c.id.c_str(), c.meta.value("source", std::string("?")).c_str());
      print_volume(c.hu);
      if (c.meta.contains("dicom_offset_mm"))
        std::printf("scanner  = world + (%s) mm; series %s\n", c.meta["dicom_offset_mm"].dump().c_str(),
                    c.meta.value("series_uid", std::string()).c_str());
      print_nodules(c.nodules);
      return 0;
    };
  });
}

// ---- stats ----
struct StatsOpts {
  std::vector<std::string> cases, views;
  std::string json;
  std::unique_ptr<tools::ConfigOptions> config;
};

// A view set given as its JSON file or as the folder render wrote it to (infos.json inside).
fs::path view_set_file(const std::string& arg) {
  const fs::path p(arg);
  return fs::is_directory(p) ? p / "infos.json" : p;
}

void print_stats_table(const std::vector<data::AnatomyStats>& all, const std::vector<std::optional<double>>& beta) {
  std::printf("\n%-40s", "statistic (inside the lung mask)");
  for (const auto& s : all) std::printf(" %16s", clip(s.id, 16).c_str());
  std::printf("\n");
  auto row = [&](const char* name, auto value, const char* fmt) {
    std::printf("%-40s", name);
    for (const auto& s : all) std::printf(fmt, value(s));
    std::printf("\n");
  };
  using S = data::AnatomyStats;
  row(
      "lung volume right (L)", [](const S& s) { return s.right_lung_ml / 1000; }, " %16.2f");
  row(
      "lung volume left (L)", [](const S& s) { return s.left_lung_ml / 1000; }, " %16.2f");
  row(
      "lung volume total (L)", [](const S& s) { return s.lung_litres(); }, " %16.2f");
  row(
      "vessel fraction (HU > vessel_hu, %)", [](const S& s) { return 100 * s.vessel_fraction; }, " %16.1f");
  row(
      "centreline length (m)", [](const S& s) { return s.centreline_mm / 1000; }, " %16.2f");
  row(
      "median centreline radius (mm)", [](const S& s) { return s.median_radius_mm; }, " %16.2f");
  row(
      "centreline share radius >= 3 mm (%)", [](const S& s) { return 100 * s.thick_share; }, " %16.1f");
  row(
      "vessel components per litre", [](const S& s) { return s.components_per_litre; }, " %16.0f");
  for (std::size_t b = 0; b < (all.empty() ? 0 : all[0].components_per_litre_by_size.size()); ++b) {
    const auto& e = all[0].component_edges_mm3;
    const std::string name = b == 0          ? core::cat("  of them < ", e[0], " mm^3")
                             : b == e.size() ? core::cat("  of them >= ", e.back(), " mm^3")
                                             : core::cat("  of them ", e[b - 1], "-", e[b], " mm^3");
    row(
        name.c_str(), [b](const S& s) { return s.components_per_litre_by_size[b]; }, " %16.0f");
  }
  row(
      "branch points per litre", [](const S& s) { return s.branch_points_per_litre; }, " %16.0f");
  for (std::size_t b = 0; b < (all.empty() ? 0 : all[0].blobs.size()); ++b) {
    const std::string name = core::cat("LoG blobs per litre, ", all[0].blobs[b].diameter_mm, " mm");
    row(
        name.c_str(), [b](const S& s) { return s.blobs[b].per_litre; }, " %16.0f");
  }
  row(
      "parenchyma HU p05", [](const S& s) { return s.parenchyma_p05_hu; }, " %16.0f");
  row(
      "parenchyma HU median", [](const S& s) { return s.parenchyma_p50_hu; }, " %16.0f");
  row(
      "parenchyma HU p95", [](const S& s) { return s.parenchyma_p95_hu; }, " %16.0f");
  std::printf("%-40s", "DRR lung-field spectrum slope (beta)");
  for (const auto& b : beta) b ? std::printf(" %16.2f", *b) : std::printf(" %16s", "-");
  std::printf("\n");
}

void setup_stats(CLI::App& app, std::shared_ptr<StatsOpts> o, std::function<int()>& run) {
  auto* sub = app.add_subcommand(
      "stats", "Anatomy statistics inside the lung mask of cases (and their rendered views), side by side");
  sub->add_option("cases", o->cases, "Case folders (data phantom / import / insert) or DICOM series folders")
      ->required();
  sub->add_option("--views", o->views,
                  "Rendered view sets (infos.json or its folder) for the DRR spectrum, matched to cases by case id");
  sub->add_option("--json", o->json, "Write every statistic (histograms included) to this JSON file");
  o->config = std::make_unique<tools::ConfigOptions>(*sub);
  sub->footer(
      "Config keys (under stats.): vessel_hu, thick_radius_mm, blob_diameters_mm, blob_min_response_hu, "
      "spectrum_roi_px, spectrum_field_fraction (docs/data.md \"Anatomy statistics\").");
  sub->callback([o, &run] {
    run = [o] {
      core::Config cfg = o->config->load();
      const core::Config sc = cfg.section("stats");
      data::AnatomyStatsOptions so;
      so.vessel_hu = sc.get<double>("vessel_hu", so.vessel_hu);
      so.thick_radius_mm = sc.get<double>("thick_radius_mm", so.thick_radius_mm);
      so.blob_diameters_mm = sc.get<std::vector<double>>("blob_diameters_mm", so.blob_diameters_mm);
      so.blob_min_response_hu = sc.get<double>("blob_min_response_hu", so.blob_min_response_hu);
      data::SpectrumOptions po;
      po.roi_px = sc.get<int>("spectrum_roi_px", po.roi_px);
      po.field_fraction = sc.get<double>("spectrum_field_fraction", po.field_fraction);
      cfg.check_no_unknown_keys();
      so.validate();
      XL_USAGE_CHECK(po.field_fraction > 0 && po.field_fraction < 1,
                     "stats.spectrum_field_fraction = ", po.field_fraction, ", expected in (0, 1)");
      // Views by case id, read up front so that a bad file fails before the slow part.
      std::map<std::string, std::pair<fs::path, core::ViewSet>> views;
      for (const auto& v : o->views) {
        const fs::path file = view_set_file(v);
        core::ViewSet set = core::read_view_set(file);
        XL_CHECK(!views.count(set.case_id), "'", file.string(), "': a second view set for case '", set.case_id, "'");
        const std::string id = set.case_id;  // before the set is moved (argument order is unspecified)
        views.emplace(id, std::make_pair(file, std::move(set)));
      }
      std::vector<data::AnatomyStats> all;
      std::vector<std::optional<double>> beta;
      nlohmann::json doc = {{"format", "xraylift.anatomy_stats"}, {"version", 1}, {"cases", nlohmann::json::array()}};
      for (const auto& path : o->cases) {
        if (core::interrupt_requested()) throw core::Interrupted("data stats: stopped");
        const auto t0 = std::chrono::steady_clock::now();
        const data::Case c = load_any_case(path, "");
        const data::LungSegmentation seg = data::segment_lungs(c.hu, so.lungs);
        data::AnatomyStats s = data::anatomy_stats(c.hu, seg.labels, so);
        s.id = c.id;
        nlohmann::json j = data::to_json(s);
        j["path"] = path;
        std::optional<double> b;
        if (const auto it = views.find(c.id); it != views.end()) {
          const data::DrrSpectrum sp = data::drr_lung_spectrum(it->second.second, it->second.first, seg.labels, po);
          b = sp.mean.beta;
          j["drr_spectrum"] = {{"views", it->second.first.string()},
                               {"beta", sp.mean.beta},
                               {"view_beta", sp.view_beta},
                               {"rois", sp.mean.rois},
                               {"frequency_cycles_per_px", sp.mean.frequency},
                               {"power", sp.mean.power}};
          views.erase(it);
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        core::log::info("stats of ", c.id, " in ", seconds, " s");
        doc["cases"].push_back(j);
        all.push_back(std::move(s));
        beta.push_back(b);
      }
      for (const auto& [id, v] : views)
        core::log::warn("views '", v.first.string(), "' are of case '", id, "', which is not among the cases");
      print_stats_table(all, beta);
      if (!o->json.empty()) {
        core::write_file_atomic(o->json, doc.dump(1));
        core::log::info("wrote ", o->json);
      }
      return 0;
    };
  });
}

tools::Runner setup(CLI::App& app) {
  app.require_subcommand(1);
  auto run = std::make_shared<std::function<int()>>();
  auto io = std::make_shared<ImportOpts>();
  auto po = std::make_shared<PhantomOpts>();
  auto ins = std::make_shared<InsertOpts>();
  auto info = std::make_shared<std::string>();
  auto st = std::make_shared<StatsOpts>();
  setup_import(app, io, *run);
  setup_phantom(app, po, *run);
  setup_insert(app, ins, *run);
  setup_info(app, info, *run);
  setup_stats(app, st, *run);
  return [run, io, po, ins, info, st] {
    XL_USAGE_CHECK(static_cast<bool>(*run), "data: no subcommand given (import, phantom, insert, info, stats)");
    return (*run)();
  };
}

}  // namespace

XL_REGISTER_COMMAND(
    "data", "Datasets: import LIDC-IDRI, generate phantoms, insert nodules into CT, inspect cases, anatomy stats",
    setup);
