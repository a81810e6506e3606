#pragma once
// Assembling a CT volume from DICOM files, by step (internal to data; the rules are in dicom.hpp and docs/data.md):
// pick the series, check and sort its slices into a layout, then convert the pixels to HU into that layout.
#include <cstdint>
#include <string>
#include <vector>

#include "dicom_file.hpp"
#include "xraylift/data/dicom.hpp"

namespace xraylift::data::detail {

// Where each stored pixel goes in the output volume, whose index axes follow +x, +y, +z of the world.
struct SeriesLayout {
  std::vector<const DicomFile*> slices;  // sorted along the slice normal, duplicates dropped
  bool uniform = true;                   // false: slices are resampled linearly to out_step
  int rows = 0, cols = 0, out_slices = 0;
  double out_step = 0;                                       // mm between output slices
  std::int64_t s_col = 0, s_row = 0, s_slice = 0, base = 0;  // strides (with flips) for (column, row, slice)
};

// Groups the readable files by series and picks options.series_uid, or else the largest CT series that is not a
// localizer; fills out's identity fields and warnings (skipped files, ignored series).
std::vector<DicomFile*> pick_series(std::vector<DicomFile>& files, const std::string& where,
                                    const DicomReadOptions& options, DicomSeries& out);

// Checks that the slices share one geometry, sorts them, drops duplicates, checks the spacing (resampling when it
// is non-uniform and allowed), fills out's geometry fields and allocates out.hu.
SeriesLayout lay_out_series(std::vector<DicomFile*> slices, const std::string& where, const DicomReadOptions& options,
                            DicomSeries& out);

// Stored values -> HU into hu (slope/intercept, padding -> air, clamped to [-1024, 32767]), one slice per task.
void convert_to_hu(const SeriesLayout& layout, int threads, core::VolumeI16& hu);

}  // namespace xraylift::data::detail
