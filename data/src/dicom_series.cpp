// Picking, checking and sorting the slices of one DICOM series into an output layout.
#include "dicom_series.hpp"

#include <Eigen/Geometry>

#include <algorithm>
#include <cmath>
#include <map>

#include "large_volume.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/data/case.hpp"

namespace xraylift::data::detail {
namespace {

// Index of the world axis (0..2) that a direction cosine follows and its sign; -1 when oblique.
int axis_of(const Eigen::Vector3d& d, int& sign) {
  int a;
  d.cwiseAbs().maxCoeff(&a);
  if (std::abs(std::abs(d[a]) - 1.0) > 1e-3) return -1;
  sign = d[a] > 0 ? 1 : -1;
  return a;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Every slice must have the reference's size, spacing and orientation; each check names the first file breaking it.
void check_same_geometry(const std::vector<DicomFile*>& slices, const std::string& where, const std::string& uid) {
  const DicomFile& ref = *slices.front();
  for (const DicomFile* f : slices) {
    XL_CHECK(f->has_spacing, f->file, ": PixelSpacing (0028,0030) is missing; cannot place voxels in mm");
    XL_CHECK(f->pixel_spacing[0] > 0 && f->pixel_spacing[1] > 0, f->file, ": PixelSpacing = ", f->pixel_spacing[0],
             "\\", f->pixel_spacing[1], ", expected positive values");
    XL_CHECK(f->has_ipp, f->file, ": ImagePositionPatient (0020,0032) is missing; cannot sort slices");
    XL_CHECK(f->has_iop, f->file, ": ImageOrientationPatient (0020,0037) is missing");
    XL_CHECK(f->rows == ref.rows && f->cols == ref.cols, f->file, ": ", f->rows, " x ", f->cols, " pixels, but ",
             ref.file, " has ", ref.rows, " x ", ref.cols, " (one series must have one slice size)");
    XL_CHECK(std::abs(f->pixel_spacing[0] - ref.pixel_spacing[0]) < 1e-4 &&
                 std::abs(f->pixel_spacing[1] - ref.pixel_spacing[1]) < 1e-4,
             f->file, ": PixelSpacing differs from ", ref.file);
    XL_CHECK((f->row_dir - ref.row_dir).norm() < 1e-3 && (f->col_dir - ref.col_dir).norm() < 1e-3, f->file,
             ": ImageOrientationPatient differs from ", ref.file);
  }
  XL_CHECK(slices.size() >= 2, where, ": series ", uid, " has ", slices.size(), " slice (", ref.file,
           "), expected >= 2 for a volume");
}

// Sorts along the normal and keeps the first of slices at the same position (warning for each dropped one).
std::vector<DicomFile*> sorted_unique(std::vector<DicomFile*> slices, const Eigen::Vector3d& normal,
                                      std::vector<std::string>& warnings) {
  for (DicomFile* f : slices) f->position = normal.dot(f->ipp);
  std::stable_sort(slices.begin(), slices.end(),
                   [](const DicomFile* a, const DicomFile* b) { return a->position < b->position; });
  std::vector<DicomFile*> unique{slices.front()};
  for (std::size_t n = 1; n < slices.size(); ++n) {
    if (std::abs(slices[n]->position - unique.back()->position) < 1e-3) {
      warnings.push_back(core::cat(slices[n]->file, ": duplicate slice position ", slices[n]->position, " mm (same as ",
                                   unique.back()->file, "); kept the first"));
      continue;
    }
    unique.push_back(slices[n]);
  }
  return unique;
}

}  // namespace

std::vector<DicomFile*> pick_series(std::vector<DicomFile>& files, const std::string& where,
                                    const DicomReadOptions& options, DicomSeries& out) {
  std::map<std::string, std::vector<DicomFile*>> groups;
  std::string first_problem;
  for (auto& f : files) {
    if (!f.error.empty()) {
      out.warnings.push_back(core::cat(f.file, ": skipped: ", f.error));
      if (first_problem.empty()) first_problem = core::cat(f.file, ": ", f.error);
      continue;
    }
    groups[f.series_uid].push_back(&f);
  }
  XL_CHECK(!groups.empty(), where, ": no readable DICOM image in ", files.size(),
           " file(s); first problem: ", first_problem);

  std::string chosen = options.series_uid;
  if (!chosen.empty()) {
    XL_CHECK(groups.count(chosen), where, ": series '", chosen, "' was asked for but is not in the folder (",
             groups.size(), " series found)");
  } else {
    std::size_t best = 0;
    for (const auto& [uid, members] : groups) {
      if (members.front()->modality != "CT" || is_localizer(*members.front())) continue;
      if (members.size() > best) {
        best = members.size();
        chosen = uid;
      }
    }
    if (chosen.empty()) {
      std::string found;
      for (const auto& [uid, members] : groups)
        found += core::cat(" ", uid, " (", members.front()->modality, ", ", members.size(), " files)");
      throw core::InputError(core::cat(where, ": no CT series (Modality CT, not a localizer) found; series:", found));
    }
  }
  for (const auto& [uid, members] : groups)
    if (uid != chosen)
      out.warnings.push_back(core::cat(where, ": ignored series ", uid, " (", members.front()->modality, ", ",
                                       members.size(), " files", is_localizer(*members.front()) ? ", localizer" : "",
                                       "); using ", chosen));
  const DicomFile& ref = *groups[chosen].front();
  out.series_uid = chosen;
  out.study_uid = ref.study_uid;
  out.patient_id = ref.patient_id;
  out.slice_thickness_mm = ref.thickness;
  return groups[chosen];
}

SeriesLayout lay_out_series(std::vector<DicomFile*> slices, const std::string& where, const DicomReadOptions& options,
                            DicomSeries& out) {
  check_same_geometry(slices, where, out.series_uid);
  const DicomFile& ref = *slices.front();
  int row_sign = 1, col_sign = 1, normal_sign = 1;
  const Eigen::Vector3d normal = ref.row_dir.cross(ref.col_dir);
  const int row_axis = axis_of(ref.row_dir, row_sign), col_axis = axis_of(ref.col_dir, col_sign);
  const int normal_axis = axis_of(normal, normal_sign);
  XL_CHECK(row_axis >= 0 && col_axis >= 0 && normal_axis >= 0, ref.file, ": oblique ImageOrientationPatient (",
           ref.row_dir.transpose(), " / ", ref.col_dir.transpose(), ") is not supported; expected axis-aligned slices");

  slices = sorted_unique(std::move(slices), normal, out.warnings);
  XL_CHECK(slices.size() >= 2, where, ": only one distinct slice position in series ", out.series_uid);
  for (const DicomFile* f : slices) {
    const Eigen::Vector3d d = f->ipp - ref.ipp;
    const double in_plane = (d - normal * normal.dot(d)).norm();
    XL_CHECK(in_plane < 0.05 * std::max(ref.pixel_spacing[0], ref.pixel_spacing[1]) + 1e-3, f->file,
             ": slice is shifted in-plane by ", in_plane, " mm relative to ", ref.file,
             " (gantry tilt?); not supported");
  }

  // Spacing: the median gap, and the worst deviation from it.
  std::vector<double> gaps;
  for (std::size_t n = 1; n < slices.size(); ++n) gaps.push_back(slices[n]->position - slices[n - 1]->position);
  const double step = median(gaps);
  double worst = 0;
  std::size_t worst_at = 0;
  for (std::size_t n = 0; n < gaps.size(); ++n)
    if (std::abs(gaps[n] - step) > worst) {
      worst = std::abs(gaps[n] - step);
      worst_at = n;
    }
  SeriesLayout layout;
  layout.uniform = worst <= options.spacing_tolerance * step;
  if (!layout.uniform) {
    const std::string msg = core::cat(where, ": non-uniform slice spacing: median ", step, " mm, but ", gaps[worst_at],
                                      " mm between ", slices[worst_at]->file, " and ", slices[worst_at + 1]->file);
    XL_CHECK(options.resample_nonuniform, msg, " (resampling is disabled)");
    out.warnings.push_back(msg + "; resampled linearly to the median spacing");
    out.resampled = true;
  }

  // Geometry of the output volume (index axes = world axes).
  const std::size_t n_in = slices.size();
  const double span = slices.back()->position - slices.front()->position;
  layout.out_slices = layout.uniform ? static_cast<int>(n_in) : static_cast<int>(std::lround(span / step)) + 1;
  layout.out_step = span / double(layout.out_slices - 1);
  layout.cols = static_cast<int>(ref.cols);
  layout.rows = static_cast<int>(ref.rows);
  const int cols = layout.cols, rows = layout.rows, n_out = layout.out_slices;
  Eigen::Vector3i dims;
  Eigen::Vector3d spacing;
  dims[row_axis] = cols;
  spacing[row_axis] = ref.pixel_spacing[1];  // along a row: columns, column spacing
  dims[col_axis] = rows;
  spacing[col_axis] = ref.pixel_spacing[0];
  dims[normal_axis] = n_out;
  spacing[normal_axis] = layout.out_step;
  out.hu = allocate_volume<std::int16_t>(case_geometry(dims, spacing));
  const Eigen::Vector3d first = slices.front()->ipp;
  out.scanner_origin_offset_mm = first + ref.row_dir * (ref.pixel_spacing[1] * (cols - 1) / 2.0) +
                                 ref.col_dir * (ref.pixel_spacing[0] * (rows - 1) / 2.0) + normal * (span / 2.0);
  for (const DicomFile* f : slices) out.slices.push_back({f->sop_uid, f->ipp[normal_axis], f->file});
  if (normal_sign < 0) std::reverse(out.slices.begin(), out.slices.end());
  out.row_direction = ref.row_dir;
  out.column_direction = ref.col_dir;
  out.pixel_spacing_mm = Eigen::Vector2d(ref.pixel_spacing[0], ref.pixel_spacing[1]);
  out.first_position_mm = first;
  out.normal_axis = normal_axis;

  // Output strides for (col, row, slice) with flips so that index axes increase along +x, +y, +z.
  const std::int64_t stride[3] = {1, dims.x(), std::int64_t(dims.x()) * dims.y()};
  layout.s_col = row_sign * stride[row_axis];
  layout.s_row = col_sign * stride[col_axis];
  layout.s_slice = normal_sign * stride[normal_axis];
  layout.base = (row_sign < 0 ? (cols - 1) * stride[row_axis] : 0) +
                (col_sign < 0 ? (rows - 1) * stride[col_axis] : 0) +
                (normal_sign < 0 ? std::int64_t(n_out - 1) * stride[normal_axis] : 0);
  layout.slices.assign(slices.begin(), slices.end());
  return layout;
}

}  // namespace xraylift::data::detail
