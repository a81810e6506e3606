// Accuracy of the trilinear marcher per step size, measured with the CPU twin (docs/drr.md, "Step size"): the LIDC
// sample (else the synthetic chest) through the seed ring, 10 views; for each step the relative difference of every
// ray with L > 10% of the peak against Siddon (exact intersection lengths on nearest-voxel values) and against the
// finest trilinear step (0.05 voxel: the step error alone), plus the same for the binary16 texture.
// Usage: drr_step_accuracy [pixels=256]. Prints a Markdown table.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench_common.hpp"
#include "xraylift/drr/render.hpp"

using namespace xraylift;
using namespace xraylift::drr;

namespace {

struct Diff {
  double mean = 0, p99 = 0, max = 0;
};

Diff compare(const std::vector<float>& got, const std::vector<float>& ref) {
  const float peak = *std::max_element(ref.begin(), ref.end());
  std::vector<double> rel;
  for (std::size_t n = 0; n < ref.size(); ++n)
    if (ref[n] > 0.1f * peak) rel.push_back(std::abs(double(got[n]) - ref[n]) / ref[n]);
  Diff d;
  if (rel.empty()) return d;
  for (double r : rel) d.mean += r;
  d.mean /= double(rel.size());
  std::sort(rel.begin(), rel.end());
  d.p99 = rel[static_cast<std::size_t>(0.99 * double(rel.size() - 1))];
  d.max = rel.back();
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  const int pixels = argc > 1 ? std::atoi(argv[1]) : 256;
  const core::VolumeI16* sample = bench::lidc_sample();
  const core::VolumeI16& hu = sample ? *sample : bench::synthetic_chest();
  const core::VolumeF mu = attenuation_volume(hu, RenderOptions{});
  const core::Rig rig = bench::ring(pixels);
  const double voxel = mu.spacing().minCoeff();
  RenderOptions o;
  const std::vector<float> siddon = render_attenuation(mu, rig, o).line_integral;
  o.integrator = Integrator::kTrilinear;
  o.step_voxels = 0.05;
  const std::vector<float> finest = render_attenuation(mu, rig, o).line_integral;
  std::printf("volume: %s, %d x %d x %d, smallest spacing %.4f mm; 10 views x %d^2, seed ring\n\n",
              sample ? "LIDC-IDRI-0001" : "synthetic chest", mu.dims().x(), mu.dims().y(), mu.dims().z(), voxel,
              pixels);
  std::printf(
      "| step (voxel) | step (mm) | texture | vs Siddon: mean | p99 | max | vs step 0.05: mean | p99 | max "
      "| CPU ms |\n|---|---|---|---|---|---|---|---|---|---|\n");
  for (const double step : {0.25, 0.5, 1.0, 1.5, 2.0, 4.0})
    for (const bool half : {false, true}) {
      if (half && step != 0.5 && step != 1.0) continue;
      o.step_voxels = step;
      o.half_texture = half;
      const auto t0 = std::chrono::steady_clock::now();
      const std::vector<float> img = render_attenuation(mu, rig, o).line_integral;
      const double ms = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * 1e3;
      const Diff s = compare(img, siddon), f = compare(img, finest);
      std::printf("| %.2f | %.3f | %s | %.2e | %.2e | %.2e | %.2e | %.2e | %.2e | %.0f |\n", step, step * voxel,
                  half ? "half" : "float", s.mean, s.p99, s.max, f.mean, f.p99, f.max, ms);
    }
  return 0;
}
