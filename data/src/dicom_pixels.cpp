// Stored DICOM pixel values -> HU in the output layout: lookup tables per rescale, a vectorizable integer path for
// the common CT encoding, and linear resampling of non-uniform series.
#include <algorithm>
#include <cmath>
#include <map>

#include "dicom_series.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/parallel.hpp"

namespace xraylift::data::detail {
namespace {

// Slope 1, integer intercept, 16 stored bits: branch-free integer code the compiler vectorizes (no aliasing:
// src and dst are distinct buffers). pad < 0 means no padding value.
template <bool kSigned>
void convert_row(const std::uint16_t* __restrict src, std::int16_t* __restrict dst, int n, int intercept, int pad) {
  for (int c = 0; c < n; ++c) {
    const int p = src[c];
    const int stored = kSigned ? int(std::int16_t(p)) : p;
    int hu = std::min(std::max(stored + intercept, -1024), 32767);
    hu = p == pad ? -1000 : hu;
    dst[c] = static_cast<std::int16_t>(hu);
  }
}

// HU of one stored value: slope/intercept, padding and anything below -1024 -> air.
float to_hu(const DicomFile& f, std::uint16_t pattern) {
  if (f.has_padding) {
    if (f.has_padding_limit) {
      const double v = f.pixel_representation ? double(std::int16_t(pattern)) : double(pattern);
      const double a = f.pixel_representation ? double(std::int16_t(f.padding)) : double(f.padding);
      const double b = f.pixel_representation ? double(std::int16_t(f.padding_limit)) : double(f.padding_limit);
      if (v >= std::min(a, b) && v <= std::max(a, b)) return -1000.f;
    } else if (pattern == f.padding) {
      return -1000.f;
    }
  }
  double stored;
  if (f.bits_stored < 16 && f.bits_stored > 0) {
    const std::uint16_t mask = static_cast<std::uint16_t>((1u << f.bits_stored) - 1);
    std::uint16_t v = pattern & mask;
    stored =
        (f.pixel_representation && (v >> (f.bits_stored - 1))) ? double(int(v) - int(1u << f.bits_stored)) : double(v);
  } else {
    stored = f.pixel_representation ? double(std::int16_t(pattern)) : double(pattern);
  }
  const double hu = stored * f.slope + f.intercept;
  return static_cast<float>(std::clamp(hu, -1024.0, 32767.0));
}

// Stored values are 16-bit patterns: one lookup table per distinct (slope, intercept, padding, bits) makes
// conversion a table read per pixel (the sample's padding would otherwise cost a branchy double path).
class HuTables {
 public:
  explicit HuTables(const std::vector<const DicomFile*>& slices) : of_slice_(slices.size()) {
    for (std::size_t n = 0; n < slices.size(); ++n) {
      const DicomFile& f = *slices[n];
      const std::string key =
          core::cat(f.slope, "/", f.intercept, "/", f.has_padding, f.padding, "/", f.has_padding_limit, f.padding_limit,
                    "/", f.bits_stored, "/", f.pixel_representation);
      auto& t = tables_[key];
      if (t.empty()) {
        t.resize(65536);
        for (std::uint32_t v = 0; v < 65536; ++v)
          t[v] = static_cast<std::int16_t>(std::lround(to_hu(f, static_cast<std::uint16_t>(v))));
      }
      of_slice_[n] = t.data();
    }
  }
  const std::int16_t* operator[](std::size_t slice) const { return of_slice_[slice]; }

 private:
  std::map<std::string, std::vector<std::int16_t>> tables_;
  std::vector<const std::int16_t*> of_slice_;
};

void convert_slice(const SeriesLayout& L, const HuTables& luts, std::size_t n, std::int16_t* vox,
                   std::vector<std::uint16_t>& buf) {
  const DicomFile& f = *L.slices[n];
  const std::int16_t* lut = luts[n];
  const std::uint16_t* raw = stored_pixels(f, buf);
  const bool integer_path =
      f.slope == 1.0 && f.intercept == std::round(f.intercept) && f.bits_stored == 16 && !f.has_padding_limit;
  const int icept = static_cast<int>(f.intercept);
  const int pad = f.has_padding ? int(f.padding) : -1;
  const bool sign = f.pixel_representation != 0;
  const std::int64_t slice_offset = std::int64_t(n) * L.s_slice;
  for (int r = 0; r < L.rows; ++r) {
    const std::uint16_t* src = raw + std::size_t(r) * L.cols;
    std::int16_t* dst = vox + L.base + slice_offset + r * L.s_row;
    if (integer_path && L.s_col == 1) {
      if (sign)
        convert_row<true>(src, dst, L.cols, icept, pad);
      else
        convert_row<false>(src, dst, L.cols, icept, pad);
    } else if (L.s_col == 1) {
      for (int c = 0; c < L.cols; ++c) dst[c] = lut[src[c]];
    } else {
      for (int c = 0; c < L.cols; ++c) dst[c * L.s_col] = lut[src[c]];
    }
  }
}

// Output slice k of a non-uniform series: linear in HU between the two stored slices around its position.
void resample_slice(const SeriesLayout& L, const HuTables& luts, int k, std::int16_t* vox,
                    std::vector<std::uint16_t>& buf0, std::vector<std::uint16_t>& buf1) {
  const std::size_t n_in = L.slices.size();
  const double pos = L.slices.front()->position + k * L.out_step;
  std::size_t hi = std::upper_bound(L.slices.begin(), L.slices.end(), pos,
                                    [](double p, const DicomFile* f) { return p < f->position; }) -
                   L.slices.begin();
  hi = std::clamp<std::size_t>(hi, 1, n_in - 1);
  const DicomFile& f0 = *L.slices[hi - 1];
  const DicomFile& f1 = *L.slices[hi];
  const std::int16_t* lut0 = luts[hi - 1];
  const std::int16_t* lut1 = luts[hi];
  const double w = std::clamp((pos - f0.position) / (f1.position - f0.position), 0.0, 1.0);
  const std::uint16_t* p0 = stored_pixels(f0, buf0);
  const std::uint16_t* p1 = stored_pixels(f1, buf1);
  for (int r = 0; r < L.rows; ++r)
    for (int c = 0; c < L.cols; ++c) {
      const double h0 = lut0[p0[std::size_t(r) * L.cols + c]];
      const double h1 = lut1[p1[std::size_t(r) * L.cols + c]];
      vox[L.base + k * L.s_slice + r * L.s_row + c * L.s_col] =
          static_cast<std::int16_t>(std::lround((1 - w) * h0 + w * h1));
    }
}

}  // namespace

void convert_to_hu(const SeriesLayout& layout, int threads, core::VolumeI16& hu) {
  const HuTables luts(layout.slices);
  std::int16_t* vox = hu.data();
  // About four chunks per worker: each chunk reuses its read buffers over its slices.
  const std::int64_t grain = std::max<std::int64_t>(1, layout.out_slices / (4 * core::thread_count(threads)));
  core::parallel_for_chunks(
      0, layout.out_slices, grain,
      [&](std::int64_t begin, std::int64_t end) {
        std::vector<std::uint16_t> buf0, buf1;
        for (std::int64_t k = begin; k < end; ++k) {
          if (layout.uniform)
            convert_slice(layout, luts, std::size_t(k), vox, buf0);
          else
            resample_slice(layout, luts, static_cast<int>(k), vox, buf0, buf1);
        }
      },
      threads);
}

}  // namespace xraylift::data::detail
