#pragma once
// One case through the renderer into a folder (used by `xraylift render` and `xraylift demo`).
#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/core/rig.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/data/case.hpp"
#include "xraylift/drr/options.hpp"
#include "xraylift/drr/view_output.hpp"

namespace xraylift::drr {

// Reads a render input: a case folder (case.json + volume.nrrd + nodules.json, data module), a DICOM series
// folder (id = the folder name, no nodules) or a single NRRD volume (id = the file stem, no nodules). Every input
// ends in the world frame of a case and passes data::validate_case: DICOM series are centred by the reader, NRRD
// volumes by data::bring_to_world_frame (axis-aligned directions are reoriented, oblique ones refused; the
// offset is meta.input_offset_mm: file mm = world mm + offset).
// Throws InputError naming the path when it is none of these.
data::Case load_render_input(const std::filesystem::path& path);

// Case folders listed by a manifest: the data module's dataset manifest (JSON, format xraylift.manifest; paths
// relative to the manifest's folder) or a text file with one path per line ('#' comments, relative paths too).
std::vector<std::filesystem::path> read_manifest(const std::filesystem::path& manifest);

struct RenderCaseResult {
  core::ViewSet views;
  double render_seconds = 0;  // the render call only (no file writing)
  long long rays = 0;
};

// Renders c through rig and writes the view files and infos.json into dir.
RenderCaseResult render_case(const data::Case& c, const core::Rig& rig, const RenderOptions& options,
                             const ViewOutputOptions& output, const std::filesystem::path& dir);

// The file that records how a render folder was made (the effective config and the options outside it); a
// folder is complete when it holds infos.json and this file with the same text.
inline constexpr const char* kRenderRecordFile = "render_config.yaml";

// render_case into `dir` whole or not at all (batch rendering, docs/drr.md): the views, infos.json and the
// record (`record_text` as kRenderRecordFile, written last) go to a temporary sibling folder that replaces `dir`
// in one rename (core::write_folder_atomic). A kill leaves the previous `dir` (or none) and a temporary that
// core::remove_stale_temporaries removes on the next run; a half-written case folder never appears.
RenderCaseResult render_case_folder(const data::Case& c, const core::Rig& rig, const RenderOptions& options,
                                    const ViewOutputOptions& output, const std::filesystem::path& dir,
                                    const std::string& record_text);

// Whether `dir` holds a finished render_case_folder made with the same `record_text` (a rerun skips it).
bool render_folder_complete(const std::filesystem::path& dir, const std::string& record_text);

// A line for a render record naming the input and when its files last changed ("# input PATH (modified T)": the
// newest of case.json, volume.nrrd and nodules.json, or the file, or the folder): a re-imported case renders again.
std::string render_input_stamp(const std::filesystem::path& path);

// The case id a render input will have (load_render_input's c.id) without reading its volume: a case folder's
// case.json id, a .nrrd file's stem, a DICOM folder's name.
std::string render_input_id(const std::filesystem::path& path);

}  // namespace xraylift::drr
