#pragma once
// Anatomy statistics of a chest CT inside its lung mask (docs/data.md "Anatomy statistics"): how much it looks like
// a chest, measured the same way on phantoms and real CT. `xraylift data stats` prints them side by side.
// The building blocks (distance transform, thinning, components, LoG blobs) are public so that they can be checked
// on analytic volumes.
#include <nlohmann/json.hpp>

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

#include "xraylift/core/volume.hpp"
#include "xraylift/data/lung_segmentation.hpp"

namespace xraylift::data {

// Exact Euclidean distance (mm, anisotropic spacing) from every voxel of `mask` (nonzero) to the nearest voxel centre
// outside it; 0 outside. Voxels beyond the volume border count as outside. in_plane: within the voxel's axial slice
// only (a tube cut by any plane leaves an ellipse whose half minor axis is its radius, so thick slices do not
// quantize the radius). Separable squared-distance transform of Felzenszwalb & Huttenlocher (2012), one axis after
// the other, lines through core::parallel_for.
core::VolumeF distance_to_outside_mm(const core::VolumeU8& mask, bool in_plane = false, int threads = 0);

// Curve skeleton of `mask` by topology-preserving 3D thinning (Lee, Kashyap & Chu 1994, the algorithm of ITK's
// BinaryThinningImageFilter3D and scikit-image's skeletonize_3d): border voxels of the six directions in turn are
// removed while they are simple (one 26-connected foreground component around them, Euler characteristic unchanged)
// and not curve ends. Returns 1 on the skeleton, 0 elsewhere.
core::VolumeU8 skeletonize(const core::VolumeU8& mask, int threads = 0);

// 26-connected components of `mask` (nonzero); returns each component's voxel count, largest first.
std::vector<std::int64_t> component_sizes_26(const core::VolumeU8& mask);

// Centreline measurements of a skeleton with the distance transform of its vessel mask.
struct Centrelines {
  double length_mm = 0;           // each skeleton voxel weighs half the distance to each skeleton neighbour
  std::vector<double> radius_mm;  // per skeleton voxel: distance_to_outside - half the smallest spacing
  std::vector<double> weight_mm;  // per skeleton voxel: its share of the centreline length
  int branch_points = 0;          // 26-connected clusters of voxels with >= 3 skeleton neighbours (after pruning)
  int spurs_pruned = 0;           // end branches no longer than the radius at their junction (surface bumps)
};
// Prunes spurs from `skeleton` in place (once), then measures. `distance` is distance_to_outside_mm of the mask
// (in-plane in anatomy_stats).
Centrelines measure_centrelines(core::VolumeU8& skeleton, const core::VolumeF& distance);

// Scale-normalized Laplacian-of-Gaussian response -sigma^2 (Lxx + Lyy + Lzz) of `image` at sigma (mm), with
// voxel-integrated Gaussian kernels per axis (exact on anisotropic grids down to sigma ~ spacing). A bright ball of
// contrast A and radius sqrt(3) sigma responds 0.925 A at its centre (docs/data.md "Anatomy statistics").
core::VolumeF log_response(const core::VolumeF& image, double sigma_mm, int threads = 0);

struct Blob {
  Eigen::Vector3d center_mm = Eigen::Vector3d::Zero();
  double response = 0;
};
// Local maxima of the response at the scale of a ball of `diameter_mm` (sigma = diameter / (2 sqrt 3)) that exceed
// `min_response` (HU) and lie where `region` is nonzero (or anywhere when region is empty).
std::vector<Blob> log_blobs(const core::VolumeF& image, double diameter_mm, double min_response,
                            const core::VolumeU8& region, int threads = 0);

struct AnatomyStatsOptions {
  double vessel_hu = -500;       // lung voxels above this are vessel (or nodule, airway wall)
  double thick_radius_mm = 3.0;  // "thick" vessels for the thick share
  std::vector<double> radius_edges_mm{0, 0.5, 1, 1.5, 2, 3, 4, 6};  // radius histogram bins (last one open)
  std::vector<double> blob_diameters_mm{6, 10, 15};
  double blob_min_response_hu = 300;  // a ball of >= 325 HU contrast at its matched scale
  double histogram_lo_hu = -1024, histogram_hi_hu = -500, histogram_bin_hu = 20;  // parenchyma HU histogram
  LungSegmentationOptions lungs;
  int threads = 0;
  void validate() const;  // throws ConfigError naming the field
};

struct BlobDensity {
  double diameter_mm = 0;
  int count = 0;
  double per_litre = 0;
};

// Edges (mm^3) of the classes AnatomyStats::components_per_litre_by_size counts vessel components in.
inline const std::vector<double> kComponentEdgesMm3 = {1, 4, 16, 64};

struct AnatomyStats {
  std::string id;
  Eigen::Vector3d spacing_mm = Eigen::Vector3d::Zero();
  double right_lung_ml = 0, left_lung_ml = 0;
  double lung_litres() const { return (right_lung_ml + left_lung_ml) / 1000.0; }
  double vessel_fraction = 0;  // of the lung mask's voxels above vessel_hu
  double centreline_mm = 0;
  std::vector<double> radius_edges_mm, radius_length_share;  // share of the centreline length per radius bin
  double median_radius_mm = 0;
  double thick_share = 0;  // share of the centreline length with radius >= thick_radius_mm
  int vessel_components = 0, branch_points = 0, spurs_pruned = 0;
  double components_per_litre = 0, branch_points_per_litre = 0;
  // Components per litre by volume: [0, e0), [e0, e1), ..., [e_last, inf) mm^3 (kComponentEdgesMm3). Tells the
  // fragments of faint vessels broken by noise and thick slices (a few voxels) from the trees themselves.
  std::vector<double> component_edges_mm3, components_per_litre_by_size;
  std::vector<BlobDensity> blobs;
  // Parenchyma: lung voxels at or below vessel_hu.
  double parenchyma_mean_hu = 0, parenchyma_p05_hu = 0, parenchyma_p50_hu = 0, parenchyma_p95_hu = 0;
  std::vector<double> histogram_edges_hu, histogram_share;
};

// `lungs` holds LungLabel codes on hu's grid (segment_lungs' labels). Throws InputError when the grids differ or the
// mask is empty.
AnatomyStats anatomy_stats(const core::VolumeI16& hu, const core::VolumeU8& lungs, const AnatomyStatsOptions& o = {});
// Segments the lungs first (segment_lungs with o.lungs).
AnatomyStats anatomy_stats(const core::VolumeI16& hu, const AnatomyStatsOptions& o = {});

nlohmann::json to_json(const AnatomyStats& s);

}  // namespace xraylift::data
