#pragma once
// The parametric lung model (docs/viz.md "Lung model from the views", issue #22 part 2): a DeepSDF-style
// auto-decoder (Park et al., CVPR 2019) over lung pairs, fitted to the views' lung fields.
//
// Canonical frame: per shape, c = (x_world - centre) / half_extent per axis, where centre and half_extent are those
// of the bounding box of both lungs' voxels; a shape's lungs fill [-1, 1]^3. The network f(z, c) -> (sdf_right,
// sdf_left) gives one signed distance per lung (canonical units, negative inside), z the shape's latent code.
// Training (train_lung_shape): the codes of the training shapes and the network are learned jointly, loss = clamped
// L1 (|clamp(f, d) - clamp(s, d)|, d = sdf_clamp) + code_prior |z|^2 (the Gaussian code prior of DeepSDF).
// Fitting (fit_lung_shape): a coarse world grid over the init box; each voxel's lung occupancy
// sigmoid(-min(sdf_r, sdf_l) / tau) is projected into every view (core/voxel_projection.hpp) and the silhouette of a
// (down-sampled) pixel is the max over its voxels; binary cross-entropy against the lung fields plus the code prior
// is minimised over z, a translation and per-axis log-scales (init: the visual hull's bounding box).
// The torch side is private (drr/torch/lung_shape.cpp); this header needs no torch.
#include <Eigen/Core>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "xraylift/core/camera.hpp"
#include "xraylift/core/volume.hpp"
#include "xraylift/data/lung_segmentation.hpp"
#include "xraylift/drr/lung_fields.hpp"
#include "xraylift/drr/visual_hull.hpp"

namespace xraylift::drr {

struct LungShapeSpec {
  int latent = 32;         // code size per shape
  int width = 128;         // hidden units per layer
  int layers = 4;          // hidden layers
  double sdf_clamp = 0.1;  // canonical units (DeepSDF's delta)
  void validate() const;   // ConfigError naming the field
};

// One training shape: its signed distances per lung on a grid^3 lattice over the canonical box [-box, box]^3
// (x fastest; voxel centres at -box + (i + 0.5) 2 box / grid).
struct LungShapeSamples {
  std::string id;
  int grid = 0;
  double box = 1.2;
  std::vector<float> sdf_right, sdf_left;  // canonical units
  Eigen::Vector3d centre = Eigen::Vector3d::Zero(), half_extent = Eigen::Vector3d::Ones();
};

// The samples of one lung mask (data::LungLabel: right 1, left 2): nearest-voxel resampling onto the lattice, then
// exact Euclidean distance transforms (Felzenszwalb & Huttenlocher) inside and outside each lung. InputError for a
// mask without both lungs.
LungShapeSamples lung_shape_samples(const core::VolumeU8& labels, const std::string& id, int grid = 64,
                                    double box = 1.2);

struct LungShapeTrainOptions {
  int iterations = 3000;
  int shapes_per_batch = 8;
  int points_per_shape = 3000;       // half uniform in the box, half within a lattice cell of the surface
  double learning_rate = 1e-3;       // network
  double code_learning_rate = 1e-3;  // latent codes
  double code_prior = 1e-4;          // weight of |z|^2
  double code_init_std = 0.01;
  std::uint64_t seed = 1;
  int threads = 0;  // torch intra-op threads; 0: leave torch's setting
  void validate() const;
};

// The trained model: the network and the training shapes' codes (their mean and spread size the fit's prior).
class LungShapeModel {
 public:
  LungShapeModel();
  ~LungShapeModel();
  LungShapeModel(LungShapeModel&&) noexcept;
  LungShapeModel& operator=(LungShapeModel&&) noexcept;
  const LungShapeSpec& spec() const;
  int shapes() const;  // training shapes
  // safetensors: net.* tensors, codes [shapes, latent], __metadata__ format "xraylift.lung_shape" and the spec.
  void save(const std::filesystem::path& path, const std::string& provenance = "") const;
  // InputError naming the file for a missing file, another format (not a lung shape model) or tensors that do not
  // match the spec in its metadata.
  static LungShapeModel load(const std::filesystem::path& path);
  // The signed distances (right, left) at canonical points (n x 3, row-major) for code `code` (latent floats; empty:
  // training shape `shape`'s code).
  std::vector<float> evaluate(const std::vector<float>& points, const std::vector<float>& code) const;
  std::vector<float> code(int shape) const;

  struct Impl;  // drr/torch/lung_shape.cpp
  explicit LungShapeModel(std::unique_ptr<Impl> impl);
  Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

struct LungShapeTrainReport {
  std::vector<double> loss;  // per 100 iterations (mean clamped L1 of those iterations)
  double seconds = 0;
};

// InputError without shapes or with lattices of differing size.
LungShapeModel train_lung_shape(const std::vector<LungShapeSamples>& shapes, const LungShapeSpec& spec,
                                const LungShapeTrainOptions& options, LungShapeTrainReport* report = nullptr);

struct LungShapeFitOptions {
  int iterations = 100;
  double grid_mm = 8;                 // the fit's voxel grid
  double margin = 0.15;               // the fit's box: the init box grown by this fraction of its size per side
  int field_px = 64;                  // fields down-sampled to this width (area fraction = the soft target)
  double tau = 0.02;                  // occupancy = sigmoid(-sdf / tau), canonical units
  double learning_rate = 0.03;        // code
  double pose_learning_rate = 0.005;  // translation (in units of half_extent) and log-scale
  double code_prior = 1e-3;           // weight of |z|^2 against the mean pixel cross-entropy
  double sdf_mm = 4;                  // the fitted SDF is evaluated on this grid ...
  double output_mm = 2;               // ... and trilinearly up-sampled to the mask's voxel size
  int threads = 0;
  void validate() const;
};

struct LungShapeFit {
  data::LungSegmentation lungs;          // the fitted model, labels right 1 / left 2
  data::LungSegmentation lungs_in_hull;  // the same where the visual hull has lung (either label)
  std::vector<float> code;
  Eigen::Vector3d centre = Eigen::Vector3d::Zero(), half_extent = Eigen::Vector3d::Ones();
  double first_loss = 0, last_loss = 0;
  double seconds = 0;
};

// The views-fitted lung model that measured best (docs/viz.md "Lung model from the views"): "hull", "parametric"
// (the fitted SDF), "parametric_in_hull" (the fitted SDF where the visual hull has lung) or "tomography" (the lungs
// from their path lengths inside the hull, lung_tomography.hpp). Measured on held-out chest phantoms and
// LIDC-IDRI-0001: tomography inside the hull of the network's fields (Dice 0.92 / 0.91 against the rule's hull's
// 0.85 / 0.80; the parametric fit scored below the hull), so a scene uses it without a shape model.
inline constexpr const char* kBestViewsLungModel = "tomography";

// Fits the model to the lung fields (one per camera, the cameras' sizes) starting from the box of `init` (the
// visual hull's lungs: centre and half extent of both lungs' bounding box). InputError for fields that do not match
// the cameras, an empty init, or fields that no voxel of the box projects into.
LungShapeFit fit_lung_shape(const LungShapeModel& model, const std::vector<core::Camera>& cameras,
                            const std::vector<Mask2D>& fields, const data::LungSegmentation& init,
                            const LungShapeFitOptions& options = {});

// The views-fitted lungs a scene or predict's lung filter uses: kBestViewsLungModel ("tomography" needs no shape
// model; a parametric one needs `model`, else the hull), or the hull when that fails (InputError; `note` says why).
// `model_name` gets which one ("hull", "tomography", "parametric", "parametric_in_hull").
data::LungSegmentation best_views_lungs(const ViewsLungs& views, const LungShapeModel* model, std::string& model_name,
                                        std::string* note = nullptr, const LungShapeFitOptions& options = {});

}  // namespace xraylift::drr
