#pragma once
// detect2d's data: rendered views (core::ViewSet folders written by the DRR stage) as train::Samples, the
// conversion of batches to model inputs, and small synthetic view sets (bright blobs) for tests and demos.
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/core/config.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/detect2d/model.hpp"
#include "xraylift/train/data.hpp"
#include "xraylift/train/trainer.hpp"

namespace xraylift::detect2d {

struct ViewDataOptions {
  // How the float line integral L becomes an image in [0, 1]: "transmission" (1 - exp(-L)) or "scaled" (L / scale).
  std::string window = "transmission";
  double scale = 4.0;
  double min_box_size = 1.0;  // ground-truth boxes narrower than this (pixels) become ignore regions

  static ViewDataOptions from_config(const core::Config& section);
};

// One view's truth as the detector sees it (training, truth JSON, scoring): the visible gt_boxes_2d that are
// nodules and at least min_box_size wide and high, and the ignore regions: boxes flagged ignore (sub-3 mm marks,
// non-nodules, truths failing the render's truth filter) and nodules below min_box_size. Ignore regions are
// neither positives nor negatives for the detector and COCO crowd regions for scoring.
struct ViewTruth {
  std::vector<core::Box2D> boxes, ignore;
  std::vector<std::string> box_ids, ignore_ids;
};
ViewTruth view_truth(const core::ViewRecord& view, const ViewDataOptions& options);
// Boxes as a [N, 4] float tensor (x0, y0, x1, y1).
torch::Tensor box_tensor(const std::vector<core::Box2D>& boxes);
// A view's truth as sample tensors: "boxes" [G, 4] float, "labels" [G] int64 (1), "ignore_boxes" [I, 4] float.
void add_truth_tensors(train::Sample& sample, const ViewTruth& truth);
// A line-integral image L [H, W] as the detector's input in [0, 1] (options.window: transmission or scaled).
torch::Tensor window_line_integral(const torch::Tensor& line_integral, const ViewDataOptions& options);

// Every view of every case. `inputs` are infos.json files or folders holding one (searched one level deep).
class ViewSetDataset : public train::Dataset {
 public:
  ViewSetDataset(const std::vector<std::filesystem::path>& inputs, ViewDataOptions options = {});
  std::size_t size() const override { return items_.size(); }
  // Sample: id "case/view", "image" [1, H, W] float in [0, 1], "boxes" [G, 4] float, "labels" [G] int64 (1),
  // "ignore_boxes" [I, 4] float (view_truth).
  train::Sample get(std::size_t index) const override;

  struct Item {
    std::string case_id;
    std::filesystem::path folder;
    core::ViewRecord view;
  };
  const std::vector<Item>& items() const { return items_; }
  const ViewDataOptions& options() const { return options_; }

 private:
  std::vector<Item> items_;
  ViewDataOptions options_;
};

// Loads one view's image [1, H, W] in [0, 1] (line-integral .npy preferred, else the 16-bit PNG).
torch::Tensor load_view_image(const std::filesystem::path& folder, const core::ViewRecord& view,
                              const ViewDataOptions& options);

// Stacks a batch's images [B, 1, H, W] (all views must share a size) and gathers its targets, on `device`.
torch::Tensor batch_images(const train::Batch& batch, const torch::Device& device);
std::vector<ImageTargets> batch_targets(const train::Batch& batch, const torch::Device& device);

// The trainer's loss function for a Faster R-CNN.
train::LossFunction make_loss_function(FasterRCNN model, torch::Device device);

// Writes `cases` synthetic cases under `root` (root/caseN/infos.json + viewNN.npy): random spherical "nodules"
// in a ring rig of `views` views of size x size pixels, rendered as soft bright discs filling each projected
// 2D box over a smooth, textured background. Deterministic from `seed`. Returns the infos.json paths.
std::vector<std::filesystem::path> write_synthetic_view_sets(const std::filesystem::path& root, int cases, int views,
                                                             int size, std::uint64_t seed);

// Everything a detect2d training run reads from its config: `model`, `data` and `train` sections.
struct Detect2DJob {
  ModelConfig model;
  ViewDataOptions data;
  train::TrainerOptions trainer;
  // data.synthetic {cases, views, size, seed}: generated view sets when no data folders are given (0 = none).
  int synthetic_cases = 0, synthetic_views = 4, synthetic_size = 128;
  std::uint64_t synthetic_seed = 1;
  static Detect2DJob from_config(const core::Config& config);
};

}  // namespace xraylift::detect2d
