#pragma once
// A dataset manifest (JSON, docs/data.md): the cases of a dataset folder with their paths (relative to the
// manifest), nodule counts and split, plus the inputs that were skipped and why.
//   {"format": "xraylift.manifest", "version": 1, "split_seed": 0, "train_fraction": 0.8,
//    "cases": [{"id", "patient", "path", "source", "split": "train"|"val", "nodules", "nodules_ignored",
//               "dims": [x, y, z], "spacing_mm": [x, y, z]}],
//    "skipped": [{"path", "reason"}]}
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/data/case.hpp"

namespace xraylift::data {

struct ManifestEntry {
  std::string id, patient, path, source, split;
  int nodules = 0;          // boxes that count (ignore = false)
  int nodules_ignored = 0;  // sub-3 mm, non-nodules, below min readers
  Eigen::Vector3i dims = Eigen::Vector3i::Zero();
  Eigen::Vector3d spacing_mm = Eigen::Vector3d::Zero();
};

struct SkippedInput {
  std::string path, reason;
};

struct Manifest {
  std::uint64_t split_seed = 0;
  double train_fraction = 0.8;
  std::vector<ManifestEntry> cases;
  std::vector<SkippedInput> skipped;

  const ManifestEntry* find(const std::string& id) const;
};

ManifestEntry manifest_entry(const Case& c, const std::string& relative_path, const std::string& patient);
// Seeded split by patient: all cases of one patient land in the same split; round(fraction * patients) train.
void assign_splits(Manifest& m, std::uint64_t seed, double train_fraction);
void write_manifest(const std::filesystem::path& file, const Manifest& m);  // atomic
Manifest read_manifest(const std::filesystem::path& file);                  // throws InputError naming file and field
// Loads one case of the manifest (paths are relative to the manifest's folder).
Case load_manifest_case(const std::filesystem::path& manifest_file, const ManifestEntry& e);

}  // namespace xraylift::data
