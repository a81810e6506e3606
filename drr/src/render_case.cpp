#include "xraylift/drr/render_case.hpp"

#include <chrono>
#include <sstream>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/data/dicom.hpp"
#include "xraylift/data/manifest.hpp"
#include "xraylift/data/nrrd.hpp"
#include "xraylift/drr/render.hpp"

namespace fs = std::filesystem;

namespace xraylift::drr {

data::Case load_render_input(const fs::path& path) {
  XL_CHECK(fs::exists(path), "render input '", path.string(),
           "' does not exist; expected a case folder, a DICOM "
           "series folder or a .nrrd volume");
  if (fs::is_directory(path) && fs::exists(path / "case.json")) return data::load_case(path);  // validated
  data::Case c;
  if (fs::is_regular_file(path)) {
    XL_CHECK(path.extension() == ".nrrd", "render input '", path.string(),
             "' is a file but not a .nrrd volume; expected a case folder, a DICOM series folder or a .nrrd volume");
    c.id = path.stem().string();
    c.hu = data::read_nrrd(path);
    const bool reoriented = !c.hu.geometry().axis_aligned();
    // The file's own origin (a LIDC volume at z = -175 mm, say) would put the isocentre outside the patient:
    // like every imported case, the volume is reoriented to LPS index axes and centred.
    const Eigen::Vector3d offset = data::bring_to_world_frame(c.hu, path.string());
    c.meta = {{"source", "nrrd"},
              {"path", path.string()},
              {"reoriented", reoriented},
              {"input_offset_mm", {offset.x(), offset.y(), offset.z()}}};
  } else {
    data::DicomSeries series = data::read_dicom_series(path);
    c.id = path.filename().string();
    if (c.id.empty()) c.id = path.parent_path().filename().string();
    c.hu = std::move(series.hu);
    const auto& o = series.scanner_origin_offset_mm;
    c.meta = {{"source", "dicom"},
              {"series_uid", series.series_uid},
              {"warnings", series.warnings},
              {"dicom_offset_mm", {o.x(), o.y(), o.z()}}};
  }
  data::validate_case(c, path.string());  // the invariants every case folder satisfies
  return c;
}

std::vector<fs::path> read_manifest(const fs::path& manifest) {
  const std::string text = core::read_file(manifest);
  const fs::path base = manifest.parent_path();
  std::vector<fs::path> out;
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    // The data module's dataset manifest (xraylift.manifest); paths are relative to its folder.
    for (const auto& e : data::read_manifest(manifest).cases) {
      const fs::path p = e.path;
      out.push_back(p.is_absolute() ? p : base / p);
    }
  } else {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      const auto b = line.find_first_not_of(" \t\r");
      if (b == std::string::npos || line[b] == '#') continue;
      const auto e = line.find_last_not_of(" \t\r");
      const fs::path p = line.substr(b, e - b + 1);
      out.push_back(p.is_absolute() ? p : base / p);
    }
  }
  XL_CHECK(!out.empty(), "manifest '", manifest.string(), "' lists no cases");
  return out;
}

RenderCaseResult render_case(const data::Case& c, const core::Rig& rig, const RenderOptions& options,
                             const ViewOutputOptions& output, const fs::path& dir) {
  RenderCaseResult result;
  const auto t0 = std::chrono::steady_clock::now();
  const DrrImages images = render(c.hu, rig, options, c.nodules);
  result.render_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  result.rays = static_cast<long long>(images.views) * images.height * images.width;
  result.views = write_views(dir, c.id, rig, images, c.nodules, options, output);
  return result;
}

RenderCaseResult render_case_folder(const data::Case& c, const core::Rig& rig, const RenderOptions& options,
                                    const ViewOutputOptions& output, const fs::path& dir,
                                    const std::string& record_text) {
  RenderCaseResult result;
  core::write_folder_atomic(dir, [&](const fs::path& temp) {
    result = render_case(c, rig, options, output, temp);
    core::write_file_atomic(temp / kRenderRecordFile, record_text);
  });
  return result;
}

bool render_folder_complete(const fs::path& dir, const std::string& record_text) {
  std::error_code ec;
  if (!fs::is_regular_file(dir / "infos.json", ec) || !fs::is_regular_file(dir / kRenderRecordFile, ec)) return false;
  try {
    return core::read_file(dir / kRenderRecordFile) == record_text;
  } catch (const core::InputError&) {
    return false;  // unreadable: render it again
  }
}

std::string render_input_stamp(const fs::path& path) {
  std::error_code ec;
  fs::file_time_type newest = fs::last_write_time(path, ec);
  if (fs::is_directory(path, ec))
    for (const char* name : {"case.json", "volume.nrrd", "nodules.json"}) {
      const auto t = fs::last_write_time(path / name, ec);
      if (!ec && t > newest) newest = t;
    }
  return core::cat("# input ", path.string(), " (modified ", newest.time_since_epoch().count(), ")\n");
}

std::string render_input_id(const fs::path& path) {
  if (fs::is_directory(path) && fs::exists(path / "case.json")) return data::load_case_header(path).id;
  if (fs::is_regular_file(path)) return path.stem().string();
  const std::string name = path.filename().string();
  return name.empty() ? path.parent_path().filename().string() : name;
}

}  // namespace xraylift::drr
