#pragma once
// LIDC-IDRI import: series folders + annotation XML -> case folders (NRRD + JSON) + manifest.json.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "xraylift/data/case.hpp"
#include "xraylift/data/dicom.hpp"
#include "xraylift/data/lidc.hpp"
#include "xraylift/data/manifest.hpp"

namespace xraylift::data {

// A case from a series (no nodules): meta.source = "lidc", series/study UIDs, patient, dicom_offset_mm
// (scanner = world + offset), slices [{sop_uid, z_mm}], warnings.
Case case_from_series(const DicomSeries& s, const std::string& id);

struct LidcCaseBuild {
  Case ct;
  LidcNoduleResult nodules;
  std::vector<std::string> warnings;
};
// Adds the nodules of the annotation files (one per series normally) to the series' case.
LidcCaseBuild build_lidc_case(const DicomSeries& s, const std::vector<LidcAnnotations>& annotations,
                              const LidcNoduleOptions& o, const std::string& id);

struct LidcImportOptions {
  LidcNoduleOptions nodules;
  std::uint64_t split_seed = 0;
  double train_fraction = 0.8;
  bool progress = true;
};

struct LidcImportSummary {
  Manifest manifest;                           // also written to out/manifest.json
  int series_folders = 0;                      // folders holding DICOM files
  std::map<std::string, int> nodules_by_size;  // "<3 mm", "3-6 mm", "6-10 mm", "10-20 mm", ">=20 mm"
  std::vector<std::string> notices;            // radiograph XML skipped, XML without series, cases without XML, ...
  std::vector<std::string> warnings;           // from the readers (per case)
  // Annotation files that could not be read: their annotations are dropped, the CT is imported (the error is
  // also in the case's meta.annotation_errors and meta.warnings).
  std::vector<std::string> annotation_errors;
};

// Walks root recursively: each folder with .dcm files is a series candidate; every .xml is matched to its series
// by SeriesInstanceUid. Writes out/cases/<id>/ (atomic per case) and out/manifest.json (atomic, last). A bad
// series never aborts the import: it is listed in manifest.skipped with the reason. A bad annotation file drops
// its annotations (summary.annotation_errors names file, line and element), never the CT.
LidcImportSummary import_lidc(const std::filesystem::path& root, const std::filesystem::path& out,
                              const LidcImportOptions& o = {});

// Size bucket label of a nodule diameter (mm).
std::string size_bucket(double diameter_mm, bool small);

}  // namespace xraylift::data
