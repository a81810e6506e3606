#include "xraylift/data/lidc_import.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include "xraylift/core/interrupt.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/progress.hpp"

namespace xraylift::data {
namespace fs = std::filesystem;

Case case_from_series(const DicomSeries& s, const std::string& id) {
  Case c;
  c.id = id;
  c.hu = s.hu;
  nlohmann::json slices = nlohmann::json::array();
  for (const auto& sl : s.slices) slices.push_back({{"sop_uid", sl.sop_uid}, {"z_mm", sl.z_mm}});
  c.meta = {{"source", "lidc"},
            {"series_uid", s.series_uid},
            {"study_uid", s.study_uid},
            {"patient_id", s.patient_id},
            {"dicom_offset_mm",
             {s.scanner_origin_offset_mm.x(), s.scanner_origin_offset_mm.y(), s.scanner_origin_offset_mm.z()}},
            {"slice_thickness_mm", s.slice_thickness_mm},
            {"resampled", s.resampled},
            {"slices", slices},
            {"warnings", s.warnings}};
  return c;
}

LidcCaseBuild build_lidc_case(const DicomSeries& s, const std::vector<LidcAnnotations>& annotations,
                              const LidcNoduleOptions& o, const std::string& id) {
  LidcCaseBuild b;
  b.ct = case_from_series(s, id);
  nlohmann::json details = nlohmann::json::array(), files = nlohmann::json::array();
  for (const auto& a : annotations) {
    LidcNoduleResult r = group_lidc_nodules(a, s, o);
    files.push_back(a.file);
    for (auto& n : r.nodules) {
      details.push_back(n.to_json());
      b.nodules.nodules.push_back(std::move(n));
    }
    b.nodules.non_nodules.insert(b.nodules.non_nodules.end(), r.non_nodules.begin(), r.non_nodules.end());
    b.warnings.insert(b.warnings.end(), r.warnings.begin(), r.warnings.end());
  }
  b.ct.nodules = b.nodules.boxes();
  b.ct.meta["annotation_files"] = files;
  b.ct.meta["nodules"] = details;
  b.ct.meta["nodule_options"] = {{"min_diameter_mm", o.min_diameter_mm},
                                 {"min_readers", o.min_readers},
                                 {"consensus_level", o.consensus_level},
                                 {"include_contour_points", o.include_contour_points},
                                 {"unsized_diameter_mm", o.unsized_diameter_mm}};
  for (const auto& w : b.warnings) b.ct.meta["warnings"].push_back(w);
  return b;
}

std::string size_bucket(double d, bool small) {
  if (small || d < 3) return "<3 mm";
  if (d < 6) return "3-6 mm";
  if (d < 10) return "6-10 mm";
  if (d < 20) return "10-20 mm";
  return ">=20 mm";
}

LidcImportSummary import_lidc(const fs::path& root, const fs::path& out, const LidcImportOptions& o) {
  XL_CHECK(fs::is_directory(root), "LIDC folder '", root.string(), "' does not exist or is not a folder");
  LidcImportSummary sum;
  std::vector<fs::path> series_dirs;
  std::vector<fs::path> xml_files;
  {
    std::set<fs::path> dirs;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied);
         it != fs::recursive_directory_iterator(); ++it) {
      if (!it->is_regular_file()) continue;
      std::string ext = it->path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
      if (ext == ".dcm") dirs.insert(it->path().parent_path());
      if (ext == ".xml") xml_files.push_back(it->path());
    }
    series_dirs.assign(dirs.begin(), dirs.end());
  }
  std::sort(xml_files.begin(), xml_files.end());
  sum.series_folders = static_cast<int>(series_dirs.size());
  XL_CHECK(!series_dirs.empty(), "LIDC folder '", root.string(), "' holds no .dcm files (searched recursively)");
  std::map<std::string, std::vector<fs::path>> xml_by_series;
  for (const auto& x : xml_files) {
    const std::string uid = lidc_xml_series_uid(x);
    if (uid.empty()) {
      // Radiograph messages and other XML: say so once each, then ignore.
      try {
        read_lidc_xml(x);
        sum.notices.push_back(core::cat(x.string(), ": CT read message without SeriesInstanceUid: ignored"));
      } catch (const SkippedAnnotationFile& e) {
        sum.notices.push_back(e.what());
      } catch (const core::InputError& e) {
        sum.manifest.skipped.push_back({x.string(), e.what()});
      }
      continue;
    }
    xml_by_series[uid].push_back(x);
  }
  std::set<std::string> used_series, used_ids;
  fs::create_directories(out / "cases");
  std::optional<core::Progress> progress;
  if (o.progress) progress.emplace("import", static_cast<std::int64_t>(series_dirs.size()));
  bool stopped = false;
  for (const auto& dir : series_dirs) {
    if ((stopped = core::interrupt_requested())) break;
    try {
      const DicomSeries s = read_dicom_series(dir);
      sum.warnings.insert(sum.warnings.end(), s.warnings.begin(), s.warnings.end());
      std::vector<LidcAnnotations> annotations;
      std::vector<std::string> annotation_errors;
      const auto it = xml_by_series.find(s.series_uid);
      if (it != xml_by_series.end()) {
        for (const auto& x : it->second) {
          // A broken annotation file costs its annotations, never the CT: the case is imported without them.
          try {
            annotations.push_back(read_lidc_xml(x));
          } catch (const SkippedAnnotationFile& e) {
            sum.notices.push_back(e.what());
          } catch (const core::InputError& e) {
            annotation_errors.push_back(core::cat("annotations dropped: ", e.what()));
            core::log::warn(dir.string(), ": ", annotation_errors.back());
          }
        }
      } else {
        sum.notices.push_back(
            core::cat(dir.string(), ": no annotation XML for series ", s.series_uid, ": imported without nodules"));
      }
      used_series.insert(s.series_uid);
      std::string id = s.patient_id.empty() ? dir.filename().string() : s.patient_id;
      if (used_ids.count(id)) id += "-" + s.series_uid.substr(s.series_uid.size() > 6 ? s.series_uid.size() - 6 : 0);
      used_ids.insert(id);
      LidcCaseBuild b = build_lidc_case(s, annotations, o.nodules, id);
      if (!annotation_errors.empty()) {
        b.ct.meta["annotation_errors"] = annotation_errors;
        for (const auto& e : annotation_errors) b.ct.meta["warnings"].push_back(e);
        sum.annotation_errors.insert(sum.annotation_errors.end(), annotation_errors.begin(), annotation_errors.end());
      }
      sum.warnings.insert(sum.warnings.end(), b.warnings.begin(), b.warnings.end());
      save_case(out / "cases" / id, b.ct);
      sum.manifest.cases.push_back(manifest_entry(b.ct, "cases/" + id, s.patient_id));
      for (const auto& n : b.nodules.nodules) sum.nodules_by_size[size_bucket(n.diameter_mm, n.small)]++;
    } catch (const core::InputError& e) {
      sum.manifest.skipped.push_back({dir.string(), e.what()});
      core::log::warn("skipped ", dir.string(), ": ", e.what());
    }
    if (progress) progress->tick();
  }
  if (progress) progress->finish();
  for (const auto& [uid, files] : xml_by_series)
    if (!used_series.count(uid))
      for (const auto& f : files)
        sum.notices.push_back(
            core::cat(f.string(), ": annotations for series ", uid, " which is not in the import: ignored"));
  // An interrupted import still lists the cases it finished, so they are not lost.
  assign_splits(sum.manifest, o.split_seed, o.train_fraction);
  write_manifest(out / "manifest.json", sum.manifest);
  if (stopped)
    throw core::Interrupted(core::cat("import: stopped after ", sum.manifest.cases.size(), " case(s); ",
                                      (out / "manifest.json").string(), " lists them"));
  return sum;
}

}  // namespace xraylift::data
