#pragma once
// MV2D training data: one sample per case (all its views), built on detect2d's ViewSetDataset so the 2D truth
// (window, box filter, ignore regions) is the 2D detector's. Sample tensors:
//   "image" [V, H, W] in [0, 1] (views as channels, so the trainer's photometric augmentation sees it whole),
//   "boxes" [N, 4] + "box_view" [N] int64 (2D truth of every view), "labels" [N],
//   "ignore_boxes" [I, 4] + "ignore_view" [I] (2D ignore regions: neither positives nor negatives for the detector),
//   "cameras" [V, 18] float64 (fx, fy, cx, cy, width, height, R row-major 9, t 3),
//   "truth_3d" [G, 6] float64 (centre mm, size mm), "ignore_3d" [G] bool.
#include <torch/torch.h>

#include <filesystem>
#include <vector>

#include "xraylift/core/camera.hpp"
#include "xraylift/detect2d/data.hpp"
#include "xraylift/detect2d/model.hpp"
#include "xraylift/train/data.hpp"

namespace xraylift::detect2d {

class CaseDataset : public train::Dataset {
 public:
  CaseDataset(const std::vector<std::filesystem::path>& inputs, detect2d::ViewDataOptions options = {});
  std::size_t size() const override { return cases_.size(); }
  train::Sample get(std::size_t index) const override;

  struct Case {
    std::string case_id;
    std::vector<std::size_t> view_items;  // indices into the view dataset
    std::vector<core::BoxRecord> boxes_3d;
  };
  const std::vector<Case>& cases() const { return cases_; }
  std::vector<core::Camera> cameras(std::size_t case_index) const;  // without loading images
  const detect2d::ViewSetDataset& views() const { return views_; }

 private:
  detect2d::ViewSetDataset views_;
  std::vector<Case> cases_;
};

// A case sample in the layout above from its views' images ([1, H, W] or [H, W] each), their 2D truth
// (detect2d::view_truth), cameras and 3D truth. CaseDataset and OnTheFlyDataset build their samples with it.
train::Sample make_case_sample(const std::string& id, const std::vector<torch::Tensor>& view_images,
                               const std::vector<detect2d::ViewTruth>& truths, const std::vector<core::Camera>& cameras,
                               const std::vector<core::BoxRecord>& boxes_3d);

torch::Tensor cameras_tensor(const std::vector<core::Camera>& cameras);
std::vector<core::Camera> cameras_from_tensor(const torch::Tensor& t);

// One case sample as model inputs on `device`: images [V, 1, H, W], 2D targets per view, cameras.
struct CaseInputs {
  torch::Tensor images;
  std::vector<detect2d::ImageTargets> targets;
  std::vector<core::Camera> cameras;
  torch::Tensor truth_3d, ignore_3d;
};
CaseInputs case_inputs(const train::Sample& sample, const torch::Device& device);

}  // namespace xraylift::detect2d
