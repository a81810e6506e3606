#include "xraylift/detect2d/case_data.hpp"

#include <map>

#include "xraylift/core/error.hpp"
#include "xraylift/core/view_set.hpp"

namespace fs = std::filesystem;

namespace xraylift::detect2d {

CaseDataset::CaseDataset(const std::vector<fs::path>& inputs, detect2d::ViewDataOptions options)
    : views_(inputs, options) {
  std::map<fs::path, std::size_t> by_folder;
  const auto& items = views_.items();
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto it = by_folder.find(items[i].folder);
    if (it == by_folder.end()) {
      const auto set = core::read_view_set(items[i].folder / "infos.json");
      it = by_folder.emplace(items[i].folder, cases_.size()).first;
      cases_.push_back({set.case_id, {}, set.boxes_3d});
    }
    cases_[it->second].view_items.push_back(i);
  }
  for (const auto& c : cases_) {
    const auto& first = items[c.view_items.front()].view.camera;
    for (std::size_t k : c.view_items) {
      const auto& cam = items[k].view.camera;
      XL_CHECK(cam.width() == first.width() && cam.height() == first.height(), "case '", c.case_id, "' view '",
               cam.name(), "' is ", cam.width(), " x ", cam.height(), " px but view '", first.name(), "' is ",
               first.width(), " x ", first.height(), " (views of a case must match)");
    }
  }
}

torch::Tensor cameras_tensor(const std::vector<core::Camera>& cameras) {
  auto t = torch::zeros({static_cast<int64_t>(cameras.size()), 18}, torch::kDouble);
  auto a = t.accessor<double, 2>();
  for (std::size_t v = 0; v < cameras.size(); ++v) {
    const auto& c = cameras[v];
    const auto& k = c.intrinsics();
    a[v][0] = k.fx, a[v][1] = k.fy, a[v][2] = k.cx, a[v][3] = k.cy, a[v][4] = k.width, a[v][5] = k.height;
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) a[v][6 + i * 3 + j] = c.rotation()(i, j);
      a[v][15 + i] = c.translation()[i];
    }
  }
  return t;
}

std::vector<core::Camera> cameras_from_tensor(const torch::Tensor& t) {
  XL_CHECK(t.dim() == 2 && t.size(1) == 18, "cameras tensor must be [V, 18], got ", t.sizes());
  const auto c = t.to(torch::kCPU, torch::kDouble).contiguous();
  const auto a = c.accessor<double, 2>();
  std::vector<core::Camera> out;
  for (int64_t v = 0; v < c.size(0); ++v) {
    core::Intrinsics k;
    k.fx = a[v][0], k.fy = a[v][1], k.cx = a[v][2], k.cy = a[v][3];
    k.width = int(a[v][4]), k.height = int(a[v][5]);
    Eigen::Matrix3d R;
    Eigen::Vector3d tr;
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) R(i, j) = a[v][6 + i * 3 + j];
      tr[i] = a[v][15 + i];
    }
    out.emplace_back(k, R, tr, core::cat("view", v));
  }
  return out;
}

std::vector<core::Camera> CaseDataset::cameras(std::size_t index) const {
  XL_CHECK(index < cases_.size(), "case index ", index, " out of range (", cases_.size(), " cases)");
  std::vector<core::Camera> out;
  for (std::size_t k : cases_[index].view_items) out.push_back(views_.items()[k].view.camera);
  return out;
}

train::Sample make_case_sample(const std::string& id, const std::vector<torch::Tensor>& view_images,
                               const std::vector<detect2d::ViewTruth>& truths, const std::vector<core::Camera>& cameras,
                               const std::vector<core::BoxRecord>& boxes_3d) {
  XL_CHECK(view_images.size() == truths.size() && truths.size() == cameras.size(), "case '", id,
           "': ", view_images.size(), " images, ", truths.size(), " truth lists and ", cameras.size(), " cameras");
  std::vector<torch::Tensor> images, boxes, box_view, labels, ignore_boxes, ignore_view;
  for (std::size_t v = 0; v < truths.size(); ++v) {
    train::Sample view;
    detect2d::add_truth_tensors(view, truths[v]);
    images.push_back(view_images[v].dim() == 3 ? view_images[v].squeeze(0) : view_images[v]);
    boxes.push_back(view.at("boxes"));
    labels.push_back(view.at("labels"));
    box_view.push_back(torch::full({view.at("boxes").size(0)}, int64_t(v), torch::kLong));
    ignore_boxes.push_back(view.at("ignore_boxes"));
    ignore_view.push_back(torch::full({view.at("ignore_boxes").size(0)}, int64_t(v), torch::kLong));
  }
  train::Sample s;
  s.id = id;
  s.tensors["image"] = torch::stack(images);
  s.tensors["boxes"] = torch::cat(boxes);
  s.tensors["labels"] = torch::cat(labels);
  s.tensors["box_view"] = torch::cat(box_view);
  s.tensors["ignore_boxes"] = torch::cat(ignore_boxes);
  s.tensors["ignore_view"] = torch::cat(ignore_view);
  s.tensors["cameras"] = cameras_tensor(cameras);
  auto truth = torch::zeros({static_cast<int64_t>(boxes_3d.size()), 6}, torch::kDouble);
  auto ignore = torch::zeros({static_cast<int64_t>(boxes_3d.size())}, torch::kBool);
  for (std::size_t g = 0; g < boxes_3d.size(); ++g) {
    for (int i = 0; i < 3; ++i) {
      truth[g][i] = boxes_3d[g].box.center[i];
      truth[g][3 + i] = boxes_3d[g].box.size[i];
    }
    ignore[g] = boxes_3d[g].ignore;
  }
  s.tensors["truth_3d"] = truth;
  s.tensors["ignore_3d"] = ignore;
  return s;
}

train::Sample CaseDataset::get(std::size_t index) const {
  XL_CHECK(index < cases_.size(), "case index ", index, " out of range (", cases_.size(), " cases)");
  const auto& c = cases_[index];
  std::vector<torch::Tensor> images;
  std::vector<detect2d::ViewTruth> truths;
  std::vector<core::Camera> cams;
  for (std::size_t k : c.view_items) {
    const auto& item = views_.items()[k];
    images.push_back(detect2d::load_view_image(item.folder, item.view, views_.options()));
    truths.push_back(detect2d::view_truth(item.view, views_.options()));
    cams.push_back(item.view.camera);
  }
  return make_case_sample(c.case_id, images, truths, cams, c.boxes_3d);
}

CaseInputs case_inputs(const train::Sample& s, const torch::Device& device) {
  CaseInputs in;
  in.images = s.at("image").unsqueeze(1).to(device);
  in.cameras = cameras_from_tensor(s.at("cameras"));
  const auto& boxes = s.at("boxes");
  const auto& labels = s.at("labels");
  const auto& view = s.at("box_view");
  for (int64_t v = 0; v < in.images.size(0); ++v) {
    const auto idx = torch::nonzero(view == v).squeeze(1);
    const auto ignore = s.at("ignore_boxes").index_select(0, torch::nonzero(s.at("ignore_view") == v).squeeze(1));
    in.targets.push_back(
        {boxes.index_select(0, idx).to(device), labels.index_select(0, idx).to(device), ignore.to(device)});
  }
  in.truth_3d = s.at("truth_3d").to(device);
  in.ignore_3d = s.at("ignore_3d").to(device);
  return in;
}

}  // namespace xraylift::detect2d
