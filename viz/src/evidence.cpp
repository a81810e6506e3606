#include "xraylift/viz/evidence.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <queue>

#include "xraylift/core/error.hpp"
#include "xraylift/data/nrrd.hpp"
#include "xraylift/viz/surface.hpp"

namespace xraylift::viz {

void EvidenceOptions::validate() const {
  auto fail = [](const char* field, double v, const char* expected) {
    throw core::ConfigError(core::cat("evidence ", field, " ", v, ": expected ", expected));
  };
  if (!(threshold > 0 && threshold <= 1)) fail("threshold", threshold, "0 < threshold <= 1");
  if (max_peaks < 1 || max_peaks > 1000) fail("max_peaks", max_peaks, "1 .. 1000");
  if (!(min_separation_mm >= 0 && min_separation_mm < 1000)) fail("min_separation_mm", min_separation_mm, "0 .. 1000");
  if (!(iso >= 0 && iso < 1)) fail("iso", iso, "0 (none) or a probability below 1");
  if (!(min_diameter_mm > 0 && max_diameter_mm >= min_diameter_mm && max_diameter_mm <= 500))
    fail("min_diameter_mm", min_diameter_mm, "0 < min_diameter_mm <= max_diameter_mm <= 500");
}

namespace {

// The NRRD header's `type` field (the data module reads every type; only the scaling depends on it).
std::string nrrd_type_field(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string line;
  while (std::getline(in, line) && !line.empty() && line != "\r")
    if (line.rfind("type:", 0) == 0) {
      const auto b = line.find_first_not_of(" \t", 5), e = line.find_last_not_of(" \t\r");
      return b == std::string::npos ? "" : line.substr(b, e - b + 1);
    }
  return "";
}

}  // namespace

core::VolumeF read_evidence_nrrd(const std::filesystem::path& file) {
  core::VolumeF p = data::read_nrrd_f32(file);
  const std::string type = nrrd_type_field(file);
  const bool real = type == "float" || type == "double";
  const double scale = real ? 1.0 : 1e-4, hi = real ? 1.0 : 10000.0;
  for (std::size_t n = 0; n < p.values().size(); ++n) {
    const double v = p.values()[n];
    if (!(v >= 0 && v <= hi)) {
      const auto& d = p.dims();
      const auto i = std::int64_t(n) % d.x(), j = std::int64_t(n) / d.x() % d.y(), k = std::int64_t(n) / d.x() / d.y();
      throw core::InputError(core::cat("evidence volume ", file.string(), ": voxel (", i, ", ", j, ", ", k, ") is ", v,
                                       " (NRRD type ", type, "); expected a probability: ",
                                       real ? "0 .. 1 for float types" : "0 .. 10000 (units of 1/10000) for integers"));
    }
    p.values()[n] = float(v * scale);
  }
  return p;
}

std::vector<EvidencePeak> evidence_peaks(const core::VolumeF& prob, const EvidenceOptions& o) {
  o.validate();
  XL_CHECK(!prob.empty(), "evidence volume: empty");
  for (std::size_t n = 0; n < prob.values().size(); ++n) {
    const float v = prob.values()[n];
    XL_CHECK(std::isfinite(v) && v >= 0 && v <= 1, "evidence volume: voxel ", n, " is ", v,
             "; expected a probability in [0, 1]");
  }
  const Eigen::Vector3i d = prob.dims();
  struct Max {
    float value;
    Eigen::Vector3i ijk;
  };
  std::vector<Max> maxima;
  for (int k = 0; k < d.z(); ++k)
    for (int j = 0; j < d.y(); ++j)
      for (int i = 0; i < d.x(); ++i) {
        const float v = prob.at(i, j, k);
        if (v < o.threshold) continue;
        bool is_max = true;
        for (int dz = -1; dz <= 1 && is_max; ++dz)
          for (int dy = -1; dy <= 1 && is_max; ++dy)
            for (int dx = -1; dx <= 1 && is_max; ++dx)
              if (prob.in_bounds(i + dx, j + dy, k + dz) && prob.at(i + dx, j + dy, k + dz) > v) is_max = false;
        if (is_max) maxima.push_back({v, {i, j, k}});
      }
  std::stable_sort(maxima.begin(), maxima.end(), [](const Max& a, const Max& b) { return a.value > b.value; });
  const double voxel_mm3 = prob.spacing().prod();
  std::vector<EvidencePeak> peaks;
  std::vector<char> seen(prob.values().size(), 0);
  for (const Max& m : maxima) {
    if (int(peaks.size()) >= o.max_peaks) break;
    const Eigen::Vector3d at = prob.index_to_world(m.ijk.cast<double>());
    bool near = false;
    for (const auto& p : peaks)
      near = near || (prob.index_to_world(p.voxel.cast<double>()) - at).norm() < o.min_separation_mm;
    if (near) continue;
    // Half-maximum region, 26-connected, within max_diameter / 2 of the maximum.
    std::fill(seen.begin(), seen.end(), 0);
    std::queue<Eigen::Vector3i> todo;
    todo.push(m.ijk);
    seen[std::size_t(prob.linear(m.ijk.x(), m.ijk.y(), m.ijk.z()))] = 1;
    Eigen::Vector3d weighted = Eigen::Vector3d::Zero();
    double weight = 0, count = 0;
    const double half = 0.5 * m.value, radius = 0.5 * o.max_diameter_mm;
    while (!todo.empty()) {
      const Eigen::Vector3i q = todo.front();
      todo.pop();
      const double v = prob.at(q.x(), q.y(), q.z());
      const Eigen::Vector3d w = prob.index_to_world(q.cast<double>());
      weighted += v * w, weight += v, count += 1;
      for (int dz = -1; dz <= 1; ++dz)
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            const Eigen::Vector3i r = q + Eigen::Vector3i(dx, dy, dz);
            if (!prob.in_bounds(r.x(), r.y(), r.z())) continue;
            const auto n = std::size_t(prob.linear(r.x(), r.y(), r.z()));
            if (seen[n] || prob.values()[n] < half) continue;
            if ((prob.index_to_world(r.cast<double>()) - at).norm() > radius) continue;
            seen[n] = 1;
            todo.push(r);
          }
    }
    EvidencePeak p;
    p.voxel = m.ijk;
    p.probability = m.value;
    p.centre = weighted / weight;
    p.diameter_mm = std::clamp(std::cbrt(6.0 * count * voxel_mm3 / M_PI), o.min_diameter_mm, o.max_diameter_mm);
    peaks.push_back(p);
  }
  return peaks;
}

Eigen::Vector3f evidence_colour(double p) {
  p = std::clamp(p, 0.0, 1.0);
  const Eigen::Vector3f blue(0.20f, 0.30f, 1.0f), cyan(0.15f, 0.85f, 1.0f), white(0.85f, 0.95f, 1.0f);
  return p < 0.5 ? Eigen::Vector3f(blue + float(2 * p) * (cyan - blue))
                 : Eigen::Vector3f(cyan + float(2 * p - 1) * (white - cyan));
}

std::size_t add_evidence(Scene& scene, const core::VolumeF& prob, const EvidenceOptions& o, const std::string& file) {
  const std::vector<EvidencePeak> peaks = evidence_peaks(prob, o);
  int index = 0;
  for (const auto& p : peaks) {
    SceneNode n;
    n.name = core::cat("evidence_", ++index);
    n.kind = NodeKind::kEvidence;
    n.mesh = make_sphere(p.centre, 0.5 * p.diameter_mm, 10, 16);
    n.rgba.head<3>() = evidence_colour(p.probability);
    n.rgba[3] = float(0.25 + 0.5 * p.probability);
    n.translucent = true;
    n.info = {{"id", n.name},
              {"source", "evidence"},
              {"score", p.probability},
              {"probability", p.probability},
              {"center_mm", {p.centre.x(), p.centre.y(), p.centre.z()}},
              {"diameter_mm", p.diameter_mm},
              {"voxel", {p.voxel.x(), p.voxel.y(), p.voxel.z()}},
              {"threshold", o.threshold},
              {"file", file},
              {"frame", "world-LPS"}};
    scene.nodes.push_back(std::move(n));
  }
  if (o.iso > 0) {
    Mesh iso = extract_isosurface(prob, float(o.iso));
    if (!iso.empty()) {
      SceneNode n;
      n.name = "evidence_iso";
      n.kind = NodeKind::kEvidence;
      n.mesh = std::move(iso);
      n.rgba.head<3>() = evidence_colour(o.iso);
      n.rgba[3] = 0.3f;
      n.translucent = true;
      n.info = {{"id", n.name},
                {"source", "evidence"},
                {"score", o.iso},
                {"iso_probability", o.iso},
                {"triangles", n.mesh.triangle_count()},
                {"file", file},
                {"frame", "world-LPS"}};
      scene.nodes.push_back(std::move(n));
    }
  }
  return peaks.size();
}

}  // namespace xraylift::viz
