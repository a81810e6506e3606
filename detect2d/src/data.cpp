// Rendered views as training samples, batch conversion, the Faster R-CNN loss function and synthetic view sets.
#include "xraylift/detect2d/data.hpp"

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "xraylift/core/error.hpp"
#include "xraylift/core/npy.hpp"
#include "xraylift/core/rig.hpp"

namespace fs = std::filesystem;

namespace xraylift::detect2d {

ViewDataOptions ViewDataOptions::from_config(const core::Config& c) {
  ViewDataOptions o;
  o.window = c.get("window", o.window);
  o.scale = c.get("scale", o.scale);
  o.min_box_size = c.get("min_box_size", o.min_box_size);
  if (o.window != "transmission" && o.window != "scaled")
    throw core::ConfigError(
        core::cat("data.window must be transmission or scaled, got '", o.window, "' (", c.origin("window"), ")"));
  if (!(o.scale > 0)) throw core::ConfigError(core::cat("data.scale must be > 0, got ", o.scale));
  return o;
}

Detect2DJob Detect2DJob::from_config(const core::Config& config) {
  Detect2DJob job;
  job.model = ModelConfig::from_config(config.section("model"));
  const auto data = config.section("data");
  job.data = ViewDataOptions::from_config(data);
  if (data.has("synthetic")) {
    const auto s = data.section("synthetic");
    job.synthetic_cases = s.get_in_range("cases", 3, 1, 10000);
    job.synthetic_views = s.get_in_range("views", job.synthetic_views, 1, core::kMaxRigViews);
    job.synthetic_size = s.get_in_range("size", job.synthetic_size, 16, 4096);
    job.synthetic_seed = static_cast<std::uint64_t>(s.get("seed", 1LL));
  }
  job.trainer = train::TrainerOptions::from_config(config.section("train"));
  return job;
}

namespace {

fs::path find_infos(const fs::path& input) {
  if (fs::is_regular_file(input)) return input;
  XL_CHECK(fs::is_directory(input), "view set '", input.string(), "' is neither an infos.json file nor a folder");
  if (fs::exists(input / "infos.json")) return input / "infos.json";
  return {};
}

fs::path resolve(const fs::path& folder, const std::string& p) {
  const fs::path path(p);
  return path.is_absolute() ? path : folder / path;
}

}  // namespace

ViewSetDataset::ViewSetDataset(const std::vector<fs::path>& inputs, ViewDataOptions options) : options_(options) {
  std::vector<fs::path> files;
  for (const auto& in : inputs) {
    const auto direct = find_infos(in);
    if (!direct.empty()) {
      files.push_back(direct);
      continue;
    }
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(in))
      if (e.is_directory() && fs::exists(e.path() / "infos.json")) found.push_back(e.path() / "infos.json");
    std::sort(found.begin(), found.end());
    XL_CHECK(!found.empty(), "view set folder '", in.string(), "' holds no infos.json (nor do its subfolders)");
    files.insert(files.end(), found.begin(), found.end());
  }
  for (const auto& f : files) {
    const auto set = core::read_view_set(f);
    for (const auto& v : set.views) items_.push_back({set.case_id, f.parent_path(), v});
  }
  XL_CHECK(!items_.empty(), "the view sets hold no views");
}

torch::Tensor load_view_image(const fs::path& folder, const core::ViewRecord& view, const ViewDataOptions& o) {
  torch::Tensor image;
  if (!view.line_integral_path.empty()) {
    const auto path = resolve(folder, view.line_integral_path);
    const auto arr = core::read_line_integrals(path, view.camera.height(), view.camera.width());
    const auto L =
        torch::from_blob(const_cast<float*>(arr.data.data()), {arr.shape[0], arr.shape[1]}, torch::kFloat).clone();
    image = window_line_integral(L, o);
  } else {
    XL_CHECK(!view.image_path.empty(), "view '", view.camera.name(), "' has neither line_integral_path nor data_path");
    const auto path = resolve(folder, view.image_path);
    const cv::Mat m = cv::imread(path.string(), cv::IMREAD_UNCHANGED | cv::IMREAD_ANYDEPTH);
    XL_CHECK(!m.empty() && m.channels() == 1, path.string(), ": cannot read a single-channel image");
    cv::Mat f;
    m.convertTo(f, CV_32F, m.depth() == CV_16U ? 1.0 / 65535.0 : 1.0 / 255.0);
    image = torch::from_blob(f.data, {f.rows, f.cols}, torch::kFloat).clone();
  }
  return image.unsqueeze(0);
}

ViewTruth view_truth(const core::ViewRecord& view, const ViewDataOptions& o) {
  ViewTruth t;
  for (const auto& b : view.boxes) {
    const auto& box = b.projection.box;
    if (!b.projection.visible || box.empty()) continue;
    const bool big_enough = box.width() >= o.min_box_size && box.height() >= o.min_box_size;
    if (b.ignore || !big_enough) {
      t.ignore.push_back(box);
      t.ignore_ids.push_back(b.nodule_id);
    } else {
      t.boxes.push_back(box);
      t.box_ids.push_back(b.nodule_id);
    }
  }
  return t;
}

torch::Tensor window_line_integral(const torch::Tensor& L, const ViewDataOptions& o) {
  return o.window == "transmission" ? 1 - torch::exp(-L.clamp_min(0)) : (L / o.scale).clamp(0, 1);
}

torch::Tensor box_tensor(const std::vector<core::Box2D>& boxes) {
  std::vector<float> v;
  for (const auto& b : boxes) v.insert(v.end(), {float(b.x0), float(b.y0), float(b.x1), float(b.y1)});
  return torch::from_blob(v.data(), {static_cast<std::int64_t>(boxes.size()), 4}, torch::kFloat).clone();
}

void add_truth_tensors(train::Sample& s, const ViewTruth& truth) {
  s.tensors["boxes"] = box_tensor(truth.boxes);
  s.tensors["labels"] = torch::ones({static_cast<std::int64_t>(truth.boxes.size())}, torch::kLong);
  s.tensors["ignore_boxes"] = box_tensor(truth.ignore);
}

train::Sample ViewSetDataset::get(std::size_t index) const {
  XL_CHECK(index < items_.size(), "dataset index ", index, " out of range (", items_.size(), " views)");
  const auto& item = items_[index];
  train::Sample s;
  s.id = item.case_id + "/" + item.view.camera.name();
  s.tensors["image"] = load_view_image(item.folder, item.view, options_);
  add_truth_tensors(s, view_truth(item.view, options_));
  return s;
}

torch::Tensor batch_images(const train::Batch& batch, const torch::Device& device) {
  XL_CHECK(!batch.empty(), "empty batch");
  std::vector<torch::Tensor> images;
  for (const auto& s : batch) {
    const auto& im = s.at("image");
    XL_CHECK(im.sizes() == batch.front().at("image").sizes(), "batch: view '", s.id, "' has size ", im.sizes(),
             " but '", batch.front().id, "' has ", batch.front().at("image").sizes(), " (views of a batch must match)");
    images.push_back(im);
  }
  return torch::stack(images).to(device);
}

std::vector<ImageTargets> batch_targets(const train::Batch& batch, const torch::Device& device) {
  std::vector<ImageTargets> out;
  for (const auto& s : batch) {
    const auto it = s.tensors.find("ignore_boxes");
    const torch::Tensor ignore = it != s.tensors.end() ? it->second : torch::zeros({0, 4}, torch::kFloat);
    out.push_back({s.at("boxes").to(device), s.at("labels").to(device), ignore.to(device)});
  }
  return out;
}

train::LossFunction make_loss_function(FasterRCNN model, torch::Device device) {
  return [model, device](const train::Batch& batch) mutable {
    return model->losses(batch_images(batch, device), batch_targets(batch, device));
  };
}

std::vector<fs::path> write_synthetic_view_sets(const fs::path& root, int cases, int views, int size,
                                                std::uint64_t seed) {
  XL_CHECK(cases >= 1 && views >= 1 && size >= 16, "synthetic view sets: need cases >= 1, views >= 1, size >= 16");
  core::RingSpec ring;
  ring.views = views;
  ring.angle_step_deg = 360.0 / views;
  ring.detector.width = ring.detector.height = size;
  ring.detector.pixel_size_mm = 800.0 / size;  // the seed detector's 800 mm field, fewer pixels
  const core::Rig rig = core::Rig::ring(ring);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<fs::path> out;
  for (int c = 0; c < cases; ++c) {
    core::ViewSet set;
    set.case_id = core::cat("synthetic", c);
    set.render = {{"generator", "detect2d synthetic blobs"}, {"seed", seed}, {"window", "line integral"}};
    const int nodules = 2 + static_cast<int>(u(rng) * 2);
    for (int n = 0; n < nodules; ++n) {
      core::BoxRecord r;
      const double d = 30 + 30 * u(rng);
      r.box = core::Box3D{{-50 + 100 * u(rng), -50 + 100 * u(rng), -60 + 120 * u(rng)}, Eigen::Vector3d::Constant(d)};
      r.id = core::cat("nodule", n);
      r.diameter_mm = d;
      set.boxes_3d.push_back(r);
    }
    const double phase = 6.28 * u(rng), freq = 2 + 3 * u(rng);
    const fs::path folder = root / set.case_id;
    for (std::size_t v = 0; v < rig.size(); ++v) {
      core::ViewRecord view;
      view.camera = rig[v];
      view.boxes = core::ground_truth_boxes_2d(view.camera, set.boxes_3d);
      std::vector<float> L(static_cast<std::size_t>(size) * size);
      std::normal_distribution<double> noise(0.0, 0.02);
      for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) {
          const double px = (x + 0.5) / size, py = (y + 0.5) / size;
          double value = 0.35 + 0.12 * std::sin(freq * px * 6.28 + phase) * std::cos(freq * py * 5.0 + v) + noise(rng);
          for (const auto& b : view.boxes) {
            const auto& box = b.projection.unclipped;
            const double rx = 0.5 * box.width(), ry = 0.5 * box.height();
            const double dx = (x + 0.5 - 0.5 * (box.x0 + box.x1)) / rx, dy = (y + 0.5 - 0.5 * (box.y0 + box.y1)) / ry;
            const double r = std::sqrt(dx * dx + dy * dy);
            value += 0.9 * std::clamp((1.05 - r) / 0.25, 0.0, 1.0);  // soft disc inscribed in the box
          }
          L[static_cast<std::size_t>(y) * size + x] = static_cast<float>(std::max(0.0, value));
        }
      view.line_integral_path = core::cat("view", v < 10 ? "0" : "", v, ".npy");
      core::write_npy(folder / view.line_integral_path, L.data(), {size, size});
      set.views.push_back(view);
    }
    core::write_view_set(folder / "infos.json", set);
    out.push_back(folder / "infos.json");
  }
  return out;
}

}  // namespace xraylift::detect2d
