// Case folders: volume.nrrd + nodules.json + case.json, written atomically as a whole folder.
#include "xraylift/data/case.hpp"



#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/data/nrrd.hpp"

namespace xraylift::data {
namespace fs = std::filesystem;

core::VolumeGeometry case_geometry(const Eigen::Vector3i& dims, const Eigen::Vector3d& spacing) {
  return core::VolumeGeometry::centered(dims, spacing);
}

void validate_case(const Case& c, const std::string& where) {
  XL_CHECK(!c.id.empty(), where, ": case id is empty");
  XL_CHECK(!c.hu.empty(), where, ": case '", c.id, "' has no voxels");
  const auto& g = c.hu.geometry();
  g.validate(where + ": volume");
  XL_CHECK(g.axis_aligned(), where, ": case '", c.id, "' volume direction is not the identity (reorient first)");
  XL_CHECK(g.center_world().norm() < 1e-3 * g.spacing.maxCoeff() + 1e-6, where, ": case '", c.id,
           "' volume is not centred: centre at (", g.center_world().transpose(), ") mm, expected (0 0 0)");
  for (std::size_t n = 0; n < c.nodules.size(); ++n)
    core::validate_box(c.nodules[n].box, core::cat(where, ": nodules[", n, "]"));
}

namespace {

core::BoxSet boxes_of(const Case& c) {
  core::BoxSet set;
  set.source = core::BoxSource::kTruth;
  auto& cb = set.case_for(c.id);
  cb.boxes = c.nodules;
  return set;
}

Case read_header_files(const fs::path& dir) {
  XL_CHECK(fs::is_directory(dir), "case folder '", dir.string(), "' does not exist");
  Case c;
  const fs::path case_file = dir / "case.json";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(core::read_file(case_file));
  } catch (const nlohmann::json::exception& e) {
    throw core::InputError(core::cat(case_file.string(), ": malformed JSON (", e.what(), ")"));
  }
  XL_CHECK(j.is_object() && j.value("format", "") == "xraylift.case", case_file.string(),
           ": field 'format' is missing or not 'xraylift.case'");
  XL_CHECK(j.contains("id") && j["id"].is_string() && !j["id"].get<std::string>().empty(), case_file.string(),
           ": field 'id' must be a non-empty string");
  c.id = j["id"].get<std::string>();
  if (j.contains("meta")) c.meta = j["meta"];
  const fs::path nodule_file = dir / "nodules.json";
  const core::BoxSet set = core::read_box_set(nodule_file);
  if (const auto* cb = set.find(c.id)) c.nodules = cb->boxes;
  XL_CHECK(set.cases.size() <= 1 && (set.cases.empty() || set.cases[0].case_id == c.id), nodule_file.string(),
           ": expected the boxes of case '", c.id, "' only");
  return c;
}

// Writes the case files into a temporary sibling folder, then swaps it in with renames.
void save_case_with(const fs::path& dir, const Case& c, const core::VolumeU8* labels);

}  // namespace

Case load_case_header(const fs::path& dir) { return read_header_files(dir); }

Case load_case(const fs::path& dir) {
  Case c = read_header_files(dir);
  c.hu = read_nrrd(dir / "volume.nrrd");
  validate_case(c, dir.string());
  return c;
}

void save_case(const fs::path& dir, const Case& c) { save_case_with(dir, c, nullptr); }

void save_case(const fs::path& dir, const Case& c, const core::VolumeU8& labels) {
  XL_CHECK(labels.dims() == c.hu.dims() && labels.spacing().isApprox(c.hu.spacing()), dir.string(), ": label map grid (",
           labels.dims().transpose(), ") differs from the case volume's (", c.hu.dims().transpose(), ")");
  save_case_with(dir, c, &labels);
}

namespace {

void save_case_with(const fs::path& dir, const Case& c, const core::VolumeU8* labels) {
  validate_case(c, dir.string());
  try {
    core::write_folder_atomic(dir, [&](const fs::path& temp) {
      write_nrrd(temp / "volume.nrrd", c.hu, true);
      if (labels) write_nrrd(temp / "labels.nrrd", *labels, true);
      core::write_box_set(temp / "nodules.json", boxes_of(c));
      const nlohmann::json j = {{"format", "xraylift.case"}, {"version", 1}, {"id", c.id}, {"meta", c.meta}};
      core::write_file_atomic(temp / "case.json", j.dump(2));
    });
  } catch (const std::exception& e) {
    throw core::InputError(core::cat("cannot write case folder '", dir.string(), "': ", e.what()));
  }
}


}  // namespace

}  // namespace xraylift::data
