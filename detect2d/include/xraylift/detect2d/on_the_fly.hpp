#pragma once
// Training data rendered on the fly (docs/ARCHITECTURE.md "Training at scale"): case volumes (int16 HU) stay
// resident in an LRU cache with a byte budget (on the GPU when the device is CUDA) and every sample renders its
// views through a jittered rig with drr::render_tensor (CUDA kernels for CUDA tensors, the CPU reference
// otherwise). The 2D truth is recomputed from the jittered cameras (core::ground_truth_boxes_2d); samples use the
// layouts of detect2d::CaseDataset (per case) or detect2d::ViewSetDataset (per view), so the losses are unchanged.
// Everything random comes from the sample seed the Loader derives from (seed, step, slot).
//
//   data:
//     on_the_fly:
//       cases: [path, ...]         # case folders (data module), and/or
//       manifest: path             # a manifest of case folders (drr::read_manifest)
//       per_view: false            # true: one sample per view (detect2d layout), else one per case
//       cache_mb: 2048             # resident volume budget (least recently used evicted first)
//       device: cpu                # cpu | cuda[:N]: where volumes live and rendering runs
//       photons: 0                 # > 0: Poisson noise on the transmission with this many photons per pixel
//       jitter: {angle_deg: 0, sad_mm: 0, sdd_mm: 0, detector_offset_mm: 0, pose_deg: 0, pose_mm: 0}
//   (uniform in [-r, r] per view for angle/SAD/SDD/detector offset, per sample for the patient pose)
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "xraylift/core/box_set.hpp"
#include "xraylift/core/config.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/core/volume.hpp"
#include "xraylift/detect2d/data.hpp"
#include "xraylift/drr/options.hpp"
#include "xraylift/train/data.hpp"

namespace xraylift::detect2d {

struct RigJitter {
  double angle_deg = 0;           // rotation of each view about the rig axis (world z through the isocentre)
  double sad_mm = 0;              // source moved along its principal ray (detector follows)
  double sdd_mm = 0;              // detector distance: focal length changes
  double detector_offset_mm = 0;  // principal point shift, both axes
  double pose_deg = 0;            // patient rotation about x, y, z (one per sample)
  double pose_mm = 0;             // patient translation along x, y, z (one per sample)
  bool any() const;
};

// Applies the jitter drawn from `seed` to every camera of `rig` (pixel size of the detector in mm, for the
// mm ranges). Deterministic.
core::Rig jitter_rig(const core::Rig& rig, const RigJitter& jitter, double pixel_size_mm, std::uint64_t seed);

struct OnTheFlyOptions {
  std::vector<std::filesystem::path> cases;
  bool per_view = false;
  double cache_mb = 2048;
  std::string device = "cpu";
  double photons = 0;
  RigJitter jitter;
  double pixel_size_mm = 0.78125;    // the rig's detector pixel (rig.detector.pixel_size_mm)
  drr::RenderOptions render;         // the config's drr section
  detect2d::ViewDataOptions window;  // data.window / scale / min_box_size

  // `data` is the config's data section, `rig` its rig section, `drr` its drr section (may be empty).
  static OnTheFlyOptions from_config(const core::Config& data, const core::Config& rig, const core::Config& drr);
};

// Volumes by case index under a byte budget; the least recently used go first. A volume larger than the budget
// is still served (alone). Thread-safe.
class VolumeCache {
 public:
  struct Entry {
    torch::Tensor hu;  // [nz, ny, nx] int16 on the cache's device
    core::VolumeGeometry geometry;
    std::vector<core::BoxRecord> nodules;
    std::string id;
  };
  using LoadFn = std::function<std::shared_ptr<const Entry>(std::size_t index)>;
  VolumeCache(std::int64_t budget_bytes, LoadFn load);
  std::shared_ptr<const Entry> get(std::size_t index);

  struct Stats {
    std::int64_t hits = 0, misses = 0, evictions = 0, bytes = 0;
    std::size_t resident = 0;
  };
  Stats stats() const;

 private:
  std::int64_t budget_;
  LoadFn load_;
  mutable std::mutex mutex_;
  std::list<std::size_t> order_;  // front = most recent
  std::unordered_map<std::size_t, std::pair<std::shared_ptr<const Entry>, std::list<std::size_t>::iterator>> map_;
  Stats stats_;
};

class OnTheFlyDataset : public train::Dataset {
 public:
  // `rig` is the nominal rig (the config's). Reads every case's header now (ids, nodules); voxels on first use.
  OnTheFlyDataset(OnTheFlyOptions options, core::Rig rig);
  std::size_t size() const override;
  train::Sample get(std::size_t index) const override;  // no jitter, no noise (seed 0)
  train::Sample get(std::size_t index, std::uint64_t seed) const override;

  const core::Rig& rig() const { return rig_; }
  std::size_t case_count() const { return cases_.size(); }
  const std::string& case_id(std::size_t case_index) const { return ids_.at(case_index); }
  VolumeCache::Stats cache_stats() const { return cache_->stats(); }

 private:
  OnTheFlyOptions options_;
  core::Rig rig_;
  std::vector<std::filesystem::path> cases_;
  std::vector<std::string> ids_;
  std::unique_ptr<VolumeCache> cache_;
};

}  // namespace xraylift::detect2d

namespace xraylift::detect2d {

// `data.on_the_fly` of a train config (both tasks), or nullopt when the config has none. ConfigError when it is
// there without the `rig` section it renders through.
std::optional<OnTheFlyOptions> on_the_fly_options(const core::Config& config);
// A `cuda` renderer follows the trainer's device (this rank's GPU under data parallel).
void follow_trainer_device(std::optional<OnTheFlyOptions>& options, const std::string& trainer_device);
// Logs the resident-volume cache's counters after training.
void log_cache_stats(const OnTheFlyDataset& data);

}  // namespace xraylift::detect2d
