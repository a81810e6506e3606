// Case folders: volume.nrrd + nodules.json + case.json, written atomically as a whole folder.
#include "xraylift/data/case.hpp"

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/json_fields.hpp"
#include "xraylift/data/nrrd.hpp"

namespace xraylift::data {
namespace fs = std::filesystem;

core::VolumeGeometry case_geometry(const Eigen::Vector3i& dims, const Eigen::Vector3d& spacing) {
  return core::VolumeGeometry::centered(dims, spacing);
}

Eigen::Vector3d bring_to_world_frame(core::VolumeI16& v, const std::string& where) {
  const core::VolumeGeometry g = v.geometry();
  g.validate(where + ": volume");
  int world_axis[3];
  int sign[3];
  bool used[3] = {false, false, false};
  for (int a = 0; a < 3; ++a) {
    const Eigen::Vector3d d = g.direction.col(a);
    int w = 0;
    d.cwiseAbs().maxCoeff(&w);
    const bool aligned = std::abs(std::abs(d[w]) - 1.0) < 1e-6 && (d.cwiseAbs().sum() - std::abs(d[w])) < 1e-6;
    XL_CHECK(aligned && !used[w], where, ": the volume direction is oblique (index axis ", a, " points along (",
             d.transpose(),
             ")); only axis-aligned volumes (flips and axis swaps) can be brought into the LPS world "
             "frame: resample it onto an axis-aligned grid first");
    used[w] = true;
    world_axis[a] = w;
    sign[a] = d[w] > 0 ? 1 : -1;
  }
  core::VolumeGeometry out;
  out.direction = Eigen::Matrix3d::Identity();
  for (int a = 0; a < 3; ++a) {
    const int w = world_axis[a];
    out.dims[w] = g.dims[a];
    out.spacing[w] = g.spacing[a];
    // Voxel 0 of the new axis is the old voxel with the smallest world coordinate along w.
    out.origin[w] = g.origin[w] + (sign[a] > 0 ? 0.0 : -g.spacing[a] * (g.dims[a] - 1));
  }
  if (!g.axis_aligned()) {
    core::VolumeI16 r(out);
    for (int k = 0; k < g.dims.z(); ++k)
      for (int j = 0; j < g.dims.y(); ++j)
        for (int i = 0; i < g.dims.x(); ++i) {
          const int old_index[3] = {i, j, k};
          int n[3];
          for (int a = 0; a < 3; ++a) n[world_axis[a]] = sign[a] > 0 ? old_index[a] : g.dims[a] - 1 - old_index[a];
          r.at(n[0], n[1], n[2]) = v.at(i, j, k);
        }
    v = std::move(r);
  } else {
    v.geometry().origin = out.origin;
  }
  const Eigen::Vector3d offset = v.geometry().center_world();
  v.geometry().origin -= offset;
  return offset;
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
  XL_CHECK(j.is_object() && core::json_value(j, "format", std::string(), case_file.string()) == "xraylift.case",
           case_file.string(), ": field 'format' is missing or not 'xraylift.case'");
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
  XL_CHECK(labels.dims() == c.hu.dims() && labels.spacing().isApprox(c.hu.spacing()), dir.string(),
           ": label map grid (", labels.dims().transpose(), ") differs from the case volume's (",
           c.hu.dims().transpose(), ")");
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
