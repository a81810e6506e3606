// Inference over view sets, boxes2d JSON, COCO scoring (via eval) and overlays.
#include "xraylift/detect2d/inference.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <memory>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/progress.hpp"

namespace xraylift::detect2d {

std::vector<ImageDetections> run_detector(FasterRCNN model, const ViewSetDataset& dataset, const torch::Device& device,
                                          int batch_size, bool show_progress) {
  XL_CHECK(batch_size >= 1, "run_detector: batch_size must be >= 1");
  torch::NoGradGuard no_grad;
  model->eval();
  model->to(device);
  std::vector<ImageDetections> out;
  std::unique_ptr<core::Progress> progress;
  if (show_progress) progress = std::make_unique<core::Progress>("detect2d", dataset.size());
  for (std::size_t start = 0; start < dataset.size(); start += batch_size) {
    train::Batch batch;
    for (std::size_t i = start; i < std::min(dataset.size(), start + batch_size); ++i) batch.push_back(dataset.get(i));
    const auto result = model->detect(batch_images(batch, device));
    for (std::size_t k = 0; k < batch.size(); ++k) {
      const auto& item = dataset.items()[start + k];
      ImageDetections d;
      d.image_id = batch[k].id;
      d.case_id = item.case_id;
      d.view = item.view.camera.name();
      d.width = item.view.camera.width();
      d.height = item.view.camera.height();
      d.boxes = result.detections[k].boxes.to(torch::kCPU, torch::kFloat).contiguous();
      d.scores = result.detections[k].scores.to(torch::kCPU, torch::kFloat).contiguous();
      out.push_back(d);
    }
    if (progress) progress->tick(static_cast<std::int64_t>(batch.size()));
  }
  if (progress) progress->finish();
  return out;
}

namespace {

nlohmann::json image_entry(const std::string& id, const std::string& case_id, const std::string& view, int w, int h) {
  return {{"image_id", id}, {"case_id", case_id}, {"view", view},
          {"width", w},     {"height", h},        {"boxes", nlohmann::json::array()}};
}

}  // namespace

nlohmann::json detections_json(const std::vector<ImageDetections>& detections) {
  nlohmann::json images = nlohmann::json::array();
  for (const auto& d : detections) {
    auto e = image_entry(d.image_id, d.case_id, d.view, d.width, d.height);
    const auto b = d.boxes.accessor<float, 2>();
    const auto s = d.scores.accessor<float, 1>();
    for (int64_t i = 0; i < d.boxes.size(0); ++i)
      e["boxes"].push_back({{"bbox_xyxy", {b[i][0], b[i][1], b[i][2], b[i][3]}},
                            {"score", std::clamp(double(s[i]), 0.0, 1.0)},
                            {"label", "nodule"}});
    images.push_back(e);
  }
  return {
      {"format", "xraylift.boxes2d"}, {"version", 1}, {"units", "px"}, {"source", "prediction"}, {"images", images}};
}

nlohmann::json truth_json(const ViewSetDataset& dataset) {
  nlohmann::json images = nlohmann::json::array();
  for (std::size_t i = 0; i < dataset.size(); ++i) {
    const auto& item = dataset.items()[i];
    auto e = image_entry(item.case_id + "/" + item.view.camera.name(), item.case_id, item.view.camera.name(),
                         item.view.camera.width(), item.view.camera.height());
    // The same boxes the dataset trains and scores on (view_truth): nodules, then ignore (crowd) regions.
    const ViewTruth truth = view_truth(item.view, dataset.options());
    for (std::size_t k = 0; k < truth.boxes.size(); ++k) {
      const auto& x = truth.boxes[k];
      e["boxes"].push_back({{"bbox_xyxy", {x.x0, x.y0, x.x1, x.y1}}, {"label", "nodule"}, {"id", truth.box_ids[k]}});
    }
    for (std::size_t k = 0; k < truth.ignore.size(); ++k) {
      const auto& x = truth.ignore[k];
      e["boxes"].push_back({{"bbox_xyxy", {x.x0, x.y0, x.x1, x.y1}},
                            {"label", "nodule"},
                            {"id", truth.ignore_ids[k]},
                            {"ignore", true}});
    }
    images.push_back(e);
  }
  return {{"format", "xraylift.boxes2d"}, {"version", 1}, {"units", "px"}, {"source", "truth"}, {"images", images}};
}

Detect2DEvaluation evaluate_detections(const std::vector<ImageDetections>& detections, const ViewSetDataset& dataset) {
  std::map<std::string, std::vector<eval::GroundTruth2D>> truths;
  std::map<std::string, std::vector<eval::Detection2D>> preds;
  for (std::size_t i = 0; i < dataset.size(); ++i) {
    const auto& item = dataset.items()[i];  // the truth the model was trained on, ignore regions as crowds
    const auto& view = item.view.camera.name();
    const std::string image_id = item.case_id + "/" + view;
    const ViewTruth truth = view_truth(item.view, dataset.options());
    for (const auto& box : truth.boxes) {
      truths["all"].push_back({image_id, box, false});
      truths[view].push_back({image_id, box, false});
    }
    for (const auto& box : truth.ignore) {
      truths["all"].push_back({image_id, box, true});
      truths[view].push_back({image_id, box, true});
    }
    truths["all"];
    truths[view];
  }
  for (const auto& d : detections) {
    const auto b = d.boxes.accessor<float, 2>();
    const auto s = d.scores.accessor<float, 1>();
    for (int64_t k = 0; k < d.boxes.size(0); ++k) {
      const eval::Detection2D det{d.image_id, core::Box2D{b[k][0], b[k][1], b[k][2], b[k][3]},
                                  std::clamp(double(s[k]), 0.0, 1.0)};
      preds["all"].push_back(det);
      preds[d.view].push_back(det);
    }
  }
  Detect2DEvaluation result;
  result.overall = eval::evaluate_coco2d(truths["all"], preds["all"]);
  for (const auto& [view, t] : truths)
    if (view != "all") result.per_view[view] = eval::evaluate_coco2d(t, preds[view]);
  return result;
}

void write_overlay_png(const std::filesystem::path& path, const torch::Tensor& image, const torch::Tensor& truth_boxes,
                       const ImageDetections& detections, double min_score, const torch::Tensor& ignore_boxes) {
  XL_CHECK(image.dim() == 3, "overlay: image must be [C, H, W]");
  const auto gray = (image[0].clamp(0, 1) * 255).to(torch::kByte).contiguous();
  cv::Mat g(static_cast<int>(gray.size(0)), static_cast<int>(gray.size(1)), CV_8UC1, gray.data_ptr<uint8_t>());
  cv::Mat img;
  cv::cvtColor(g, img, cv::COLOR_GRAY2BGR);
  const int thick = std::max(1, img.cols / 512);
  const auto t = truth_boxes.to(torch::kFloat).contiguous();
  for (int64_t i = 0; i < t.size(0); ++i)
    cv::rectangle(img, cv::Point2f(t[i][0].item<float>(), t[i][1].item<float>()),
                  cv::Point2f(t[i][2].item<float>(), t[i][3].item<float>()), cv::Scalar(0, 200, 0), thick);
  if (ignore_boxes.defined()) {
    const auto g = ignore_boxes.to(torch::kFloat).contiguous();
    for (int64_t i = 0; i < g.size(0); ++i)
      cv::rectangle(img, cv::Point2f(g[i][0].item<float>(), g[i][1].item<float>()),
                    cv::Point2f(g[i][2].item<float>(), g[i][3].item<float>()), cv::Scalar(0, 165, 255), thick);
  }
  const auto b = detections.boxes.accessor<float, 2>();
  const auto s = detections.scores.accessor<float, 1>();
  for (int64_t i = 0; i < detections.boxes.size(0); ++i) {
    if (s[i] < min_score) continue;
    cv::rectangle(img, cv::Point2f(b[i][0], b[i][1]), cv::Point2f(b[i][2], b[i][3]), cv::Scalar(0, 0, 230), thick);
    char label[16];
    std::snprintf(label, sizeof(label), "%.2f", s[i]);
    cv::putText(img, label, cv::Point(int(b[i][0]), std::max(8, int(b[i][1]) - 2)), cv::FONT_HERSHEY_SIMPLEX,
                0.3 * thick, cv::Scalar(0, 0, 230), 1, cv::LINE_AA);
  }
  std::vector<uchar> buf;
  cv::imencode(".png", img, buf);
  core::write_file_atomic(path, std::string(buf.begin(), buf.end()));
}

}  // namespace xraylift::detect2d
