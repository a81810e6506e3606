#pragma once
// Running a trained detector over view sets, writing detections (the eval module's xraylift.boxes2d JSON,
// docs/eval.md) and overlay PNGs, and scoring them with eval::evaluate_coco2d (overall and per view).
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "xraylift/detect2d/data.hpp"
#include "xraylift/detect2d/model.hpp"
#include "xraylift/eval/coco2d.hpp"

namespace xraylift::detect2d {

struct ImageDetections {
  std::string image_id;  // "case/view"
  std::string case_id, view;
  int width = 0, height = 0;
  torch::Tensor boxes;   // [D, 4] CPU float
  torch::Tensor scores;  // [D] CPU float
};

// Runs the model (eval mode, no grad) over every view of the dataset, batch by batch.
std::vector<ImageDetections> run_detector(FasterRCNN model, const ViewSetDataset& dataset, const torch::Device& device,
                                          int batch_size = 4, bool show_progress = false);

// xraylift.boxes2d documents (docs/eval.md): predictions from detections, truth from the dataset's 2D boxes.
nlohmann::json detections_json(const std::vector<ImageDetections>& detections);
nlohmann::json truth_json(const ViewSetDataset& dataset);

struct Detect2DEvaluation {
  eval::Coco2DResult overall;
  std::map<std::string, eval::Coco2DResult> per_view;  // keyed by view name
};
Detect2DEvaluation evaluate_detections(const std::vector<ImageDetections>& detections, const ViewSetDataset& dataset);

// The view image with truth (green), ignore regions (orange) and detections (red, scores >= min_score) drawn.
void write_overlay_png(const std::filesystem::path& path, const torch::Tensor& image, const torch::Tensor& truth_boxes,
                       const ImageDetections& detections, double min_score = 0.3,
                       const torch::Tensor& ignore_boxes = torch::Tensor());

}  // namespace xraylift::detect2d
