// On-the-fly DRR training data: volume cache, rig jitter, render + truth per sample (detect2d/on_the_fly.hpp).
#include "xraylift/detect2d/on_the_fly.hpp"

#include <Eigen/Geometry>

#include <cmath>
#include <cstring>
#include <random>

#include "xraylift/core/error.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/data/case.hpp"
#include "xraylift/detect2d/case_data.hpp"
#include "xraylift/drr/render_case.hpp"
#include "xraylift/drr/render_tensor.hpp"

namespace fs = std::filesystem;

namespace xraylift::detect2d {

bool RigJitter::any() const {
  return angle_deg > 0 || sad_mm > 0 || sdd_mm > 0 || detector_offset_mm > 0 || pose_deg > 0 || pose_mm > 0;
}

core::Rig jitter_rig(const core::Rig& rig, const RigJitter& j, double pixel_size_mm, std::uint64_t seed) {
  XL_CHECK(pixel_size_mm > 0, "jitter_rig: pixel size must be > 0 mm, got ", pixel_size_mm);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const double deg = M_PI / 180.0;
  // Patient pose (one per sample): world points p move to Rp p + tp; a camera sees them as R (Rp p + tp) + t.
  const Eigen::Matrix3d Rp = (Eigen::AngleAxisd(u(rng) * j.pose_deg * deg, Eigen::Vector3d::UnitZ()) *
                              Eigen::AngleAxisd(u(rng) * j.pose_deg * deg, Eigen::Vector3d::UnitY()) *
                              Eigen::AngleAxisd(u(rng) * j.pose_deg * deg, Eigen::Vector3d::UnitX()))
                                 .toRotationMatrix();
  const Eigen::Vector3d tp(u(rng) * j.pose_mm, u(rng) * j.pose_mm, u(rng) * j.pose_mm);
  std::vector<core::Camera> out;
  for (const auto& cam : rig) {
    // Source angle: the view turns about world z through the origin (the ring's isocentre, docs/ARCHITECTURE.md
    // "Conventions").
    const Eigen::Matrix3d Rz =
        Eigen::AngleAxisd(u(rng) * j.angle_deg * deg, Eigen::Vector3d::UnitZ()).toRotationMatrix();
    Eigen::Matrix3d R = cam.rotation() * Rz.transpose();
    Eigen::Vector3d t = cam.translation();
    // SAD: the source (and detector with it) moves back along its principal ray: z_cam grows.
    t.z() += u(rng) * j.sad_mm;
    // Patient pose after the rig change.
    t = R * tp + t;
    R = R * Rp;
    core::Intrinsics k = cam.intrinsics();
    const double dsdd = u(rng) * j.sdd_mm / pixel_size_mm;  // pixels of focal length
    k.fx += dsdd;
    k.fy += dsdd;
    k.cx += u(rng) * j.detector_offset_mm / pixel_size_mm;
    k.cy += u(rng) * j.detector_offset_mm / pixel_size_mm;
    out.emplace_back(k, R, t, cam.name());
  }
  return core::Rig(std::move(out));
}

OnTheFlyOptions OnTheFlyOptions::from_config(const core::Config& data, const core::Config& rig,
                                             const core::Config& drr) {
  OnTheFlyOptions o;
  const auto c = data.section("on_the_fly");
  if (c.has("cases")) {
    const auto node = c.node("cases");
    if (!node.IsSequence())
      throw core::ConfigError(
          core::cat("data.on_the_fly.cases must be a list of case folders (", c.origin("cases"), ")"));
    for (const auto& n : node) o.cases.emplace_back(n.as<std::string>());
  }
  if (c.has("manifest")) {
    const auto m = drr::read_manifest(c.get<std::string>("manifest", ""));
    o.cases.insert(o.cases.end(), m.begin(), m.end());
  }
  if (o.cases.empty())
    throw core::ConfigError(core::cat("data.on_the_fly needs cases: [...] or manifest: (", c.origin("cases"), ")"));
  o.per_view = c.get("per_view", o.per_view);
  o.cache_mb = c.get("cache_mb", o.cache_mb);
  o.device = c.get("device", o.device);
  o.photons = c.get("photons", o.photons);
  const auto jc = c.section("jitter");
  o.jitter.angle_deg = jc.get("angle_deg", 0.0);
  o.jitter.sad_mm = jc.get("sad_mm", 0.0);
  o.jitter.sdd_mm = jc.get("sdd_mm", 0.0);
  o.jitter.detector_offset_mm = jc.get("detector_offset_mm", 0.0);
  o.jitter.pose_deg = jc.get("pose_deg", 0.0);
  o.jitter.pose_mm = jc.get("pose_mm", 0.0);
  o.pixel_size_mm = rig.section("detector").get("pixel_size_mm", o.pixel_size_mm);
  o.render = drr::RenderOptions::from_config(drr);
  o.window = detect2d::ViewDataOptions::from_config(data);
  auto fail = [&](const std::string& key, const std::string& what) {
    throw core::ConfigError(core::cat("data.on_the_fly.", key, " ", what, " (", c.origin(key), ")"));
  };
  if (!(o.cache_mb > 0)) fail("cache_mb", core::cat("must be > 0, got ", o.cache_mb));
  if (!(o.photons >= 0)) fail("photons", core::cat("must be >= 0, got ", o.photons));
  if (o.device != "cpu" && o.device.rfind("cuda", 0) != 0)
    fail("device", core::cat("must be cpu or cuda[:N], got '", o.device, "'"));
  for (const auto& [key, v] : {std::pair<const char*, double>{"angle_deg", o.jitter.angle_deg},
                               {"sad_mm", o.jitter.sad_mm},
                               {"sdd_mm", o.jitter.sdd_mm},
                               {"detector_offset_mm", o.jitter.detector_offset_mm},
                               {"pose_deg", o.jitter.pose_deg},
                               {"pose_mm", o.jitter.pose_mm}})
    if (!(v >= 0 && std::isfinite(v)))
      throw core::ConfigError(core::cat("data.on_the_fly.jitter.", key, " must be a finite range >= 0, got ", v, " (",
                                        jc.origin(key), ")"));
  return o;
}

VolumeCache::VolumeCache(std::int64_t budget_bytes, LoadFn load) : budget_(budget_bytes), load_(std::move(load)) {
  XL_CHECK(budget_ > 0, "volume cache: budget must be > 0 bytes, got ", budget_);
}

std::shared_ptr<const VolumeCache::Entry> VolumeCache::get(std::size_t index) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = map_.find(index);
    if (it != map_.end()) {
      order_.splice(order_.begin(), order_, it->second.second);
      ++stats_.hits;
      return it->second.first;
    }
    ++stats_.misses;
  }
  auto entry = load_(index);  // outside the lock: other threads keep rendering cached cases
  const std::int64_t bytes = entry->hu.numel() * entry->hu.element_size();
  std::lock_guard<std::mutex> lock(mutex_);
  if (map_.count(index)) return map_[index].first;  // another thread loaded it meanwhile
  while (!order_.empty() && stats_.bytes + bytes > budget_) {
    const std::size_t victim = order_.back();
    const auto& e = map_.at(victim).first;
    stats_.bytes -= e->hu.numel() * e->hu.element_size();
    map_.erase(victim);
    order_.pop_back();
    ++stats_.evictions;
  }
  order_.push_front(index);
  map_[index] = {entry, order_.begin()};
  stats_.bytes += bytes;
  stats_.resident = map_.size();
  return entry;
}

VolumeCache::Stats VolumeCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Stats s = stats_;
  s.resident = map_.size();
  return s;
}

OnTheFlyDataset::OnTheFlyDataset(OnTheFlyOptions options, core::Rig rig)
    : options_(std::move(options)), rig_(std::move(rig)), cases_(options_.cases) {
  XL_CHECK(!cases_.empty(), "on-the-fly data: no case folders");
  XL_CHECK(!rig_.empty(), "on-the-fly data: the rig has no views");
  options_.render.validate("drr");
  const torch::Device device(options_.device);
  if (device.is_cuda())
    XL_CHECK(torch::cuda::is_available(), "data.on_the_fly.device ", options_.device,
             " requested but CUDA is unavailable");
  for (const auto& c : cases_) ids_.push_back(data::load_case_header(c).id);
  const auto cases = cases_;
  cache_ = std::make_unique<VolumeCache>(static_cast<std::int64_t>(options_.cache_mb * 1024 * 1024), [cases, device](
                                                                                                         std::size_t
                                                                                                             i) {
    const data::Case c = data::load_case(cases.at(i));
    const auto& d = c.hu.dims();
    auto hu = torch::from_blob(const_cast<std::int16_t*>(c.hu.data()), {d.z(), d.y(), d.x()}, torch::kInt16).clone();
    auto e = std::make_shared<VolumeCache::Entry>();
    e->hu = hu.to(device);  // int16 stays int16: half the bytes of float
    e->geometry = c.hu.geometry();
    e->nodules = c.nodules;
    e->id = c.id;
    return std::shared_ptr<const VolumeCache::Entry>(e);
  });
}

std::size_t OnTheFlyDataset::size() const { return options_.per_view ? cases_.size() * rig_.size() : cases_.size(); }

train::Sample OnTheFlyDataset::get(std::size_t index) const { return get(index, 0); }

train::Sample OnTheFlyDataset::get(std::size_t index, std::uint64_t seed) const {
  XL_CHECK(index < size(), "on-the-fly data: index ", index, " out of range (", size(), " samples)");
  const std::size_t case_index = options_.per_view ? index / rig_.size() : index;
  const auto entry = cache_->get(case_index);
  // Seed 0 means the nominal rig without noise (evaluation, get(index)); jitter is drawn per sample otherwise.
  core::Rig rig = seed != 0 && options_.jitter.any()
                      ? jitter_rig(rig_, options_.jitter, options_.pixel_size_mm, train::mix_seed(seed, case_index))
                      : rig_;
  if (options_.per_view) rig = core::Rig({rig[index % rig_.size()]});
  torch::Tensor L;
  {
    torch::NoGradGuard no_grad;
    L = drr::render_tensor(entry->hu, entry->geometry, rig, options_.render);  // [V, H, W] on the volume's device
    if (options_.photons > 0 && seed != 0) {
      // Transmission with Poisson photon noise, back to a line integral (at least one photon counted).
      auto gen = at::detail::createCPUGenerator(train::mix_seed(seed, 0x9407));
      const auto expected = (torch::exp(-L.clamp_min(0)) * options_.photons).cpu();
      const auto counts = at::poisson(expected, gen).clamp_min(1.0);
      L = -torch::log(counts / options_.photons);
    }
    L = L.cpu();
  }
  const auto& w = options_.window;
  const torch::Tensor image = detect2d::window_line_integral(L, w);  // [V, H, W]
  // The 2D truth through the jittered cameras, filtered as rendered data is (detect2d::view_truth).
  std::vector<detect2d::ViewTruth> truths;
  for (std::size_t v = 0; v < rig.size(); ++v) {
    core::ViewRecord view;
    view.camera = rig[v];
    view.boxes = core::ground_truth_boxes_2d(rig[v], entry->nodules);
    truths.push_back(detect2d::view_truth(view, w));
  }
  if (options_.per_view) {
    // detect2d::ViewSetDataset's layout.
    train::Sample s;
    s.id = entry->id + "/" + rig[0].name();
    s.tensors["image"] = image;  // [1, H, W]
    detect2d::add_truth_tensors(s, truths[0]);
    return s;
  }
  return make_case_sample(entry->id, image.unbind(0), truths, rig.cameras(), entry->nodules);
}

}  // namespace xraylift::detect2d

namespace xraylift::detect2d {

std::optional<OnTheFlyOptions> on_the_fly_options(const core::Config& cfg) {
  if (!cfg.has("data.on_the_fly")) return std::nullopt;
  if (!cfg.has("rig"))
    throw core::ConfigError(
        core::cat("data.on_the_fly renders through the config's rig, but the config has no rig section (",
                  cfg.origin("data.on_the_fly"), ")"));
  return OnTheFlyOptions::from_config(cfg.section("data"), cfg.section("rig"), cfg.section("drr"));
}

void follow_trainer_device(std::optional<OnTheFlyOptions>& o, const std::string& trainer_device) {
  if (o && o->device == "cuda") o->device = trainer_device.rfind("cuda", 0) == 0 ? trainer_device : "cuda";
}

void log_cache_stats(const OnTheFlyDataset& d) {
  const auto st = d.cache_stats();
  core::log::info("on-the-fly volume cache: ", st.resident, " resident (", st.bytes / (1024 * 1024), " MiB), ", st.hits,
                  " hits, ", st.misses, " misses, ", st.evictions, " evictions");
}

}  // namespace xraylift::detect2d
