#pragma once
// Radial power spectrum of the lung fields of rendered views (docs/data.md "Anatomy statistics"): anatomical
// texture of a radiograph follows a power law P(f) ~ f^-beta; beta is compared between phantoms and real CT.
#include <complex>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "xraylift/core/camera.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/core/volume.hpp"

namespace xraylift::data {

// In-place 2D FFT of a row-major width x height array; both sizes powers of two. inverse: unscaled e^{+i}.
void fft_2d(std::vector<std::complex<double>>& a, int width, int height, bool inverse = false);

struct SpectrumOptions {
  // Square ROI side, a power of two; 0: the largest <= min(width, height) / 8 (lung fields are small), >= 16.
  int roi_px = 0;
  double band_lo_cycles = 2;       // slope fitted from this many cycles per ROI ...
  double band_hi_fraction = 0.25;  // ... up to this many cycles per pixel (the renderer's blur flattens beyond)
  double field_fraction = 0.3;     // lung field: lung path length >= this fraction of the view's longest one
};

struct PowerSpectrum {
  std::vector<double> frequency;  // cycles per pixel, one per ring of the ROI's spectrum (k / roi, k = 1 .. roi/2)
  std::vector<double> power;      // mean power per ring over the ROIs
  double beta = 0;                // -slope of log power vs log frequency over the band
  int rois = 0;
};

// ROIs of roi_px tiled at half their side, kept when every pixel lies in `field` (nonzero; empty: the whole image);
// each ROI minus its least-squares plane, Hann-windowed, Fourier transformed; the power is averaged over ROIs and
// rings. Throws InputError when no ROI fits.
PowerSpectrum radial_power_spectrum(const std::vector<float>& image, int width, int height,
                                    const std::vector<std::uint8_t>& field, const SpectrumOptions& o = {});

// Path length (mm) through the lungs per pixel of `camera`'s image (row-major): each voxel of `lungs` (nonzero)
// adds its volume divided by the pixel's footprint at the voxel's depth to the pixel its centre projects into; then a
// box filter as wide as a voxel's projection removes the aliasing of voxels larger than a pixel's footprint.
std::vector<float> lung_path_length_mm(const core::VolumeU8& lungs, const core::Camera& camera);

struct DrrSpectrum {
  PowerSpectrum mean;             // over every view's ROIs; mean.beta is the case's slope
  std::vector<double> view_beta;  // per view (0 when a view has no ROI in its lung field)
};

// The views' line integrals (`views_json`'s folder holds the .npy files) inside their lung fields, the lung field
// projected from `lungs` (on the case's grid, the views' world frame).
DrrSpectrum drr_lung_spectrum(const core::ViewSet& views, const std::filesystem::path& views_json,
                              const core::VolumeU8& lungs, const SpectrumOptions& o = {});

}  // namespace xraylift::data
