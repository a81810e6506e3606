#include "xraylift/data/manifest.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "phantom_noise.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/json_fields.hpp"

namespace xraylift::data {
namespace fs = std::filesystem;

const ManifestEntry* Manifest::find(const std::string& id) const {
  for (const auto& e : cases)
    if (e.id == id) return &e;
  return nullptr;
}

ManifestEntry manifest_entry(const Case& c, const std::string& relative_path, const std::string& patient) {
  ManifestEntry e;
  e.id = c.id;
  e.patient = patient.empty() ? c.id : patient;
  e.path = relative_path;
  e.source = core::json_value(c.meta, "source", std::string("unknown"), c.id + ": meta");
  e.split = "train";
  for (const auto& b : c.nodules) (b.ignore ? e.nodules_ignored : e.nodules)++;
  e.dims = c.hu.dims();
  e.spacing_mm = c.hu.spacing();
  return e;
}

void assign_splits(Manifest& m, std::uint64_t seed, double train_fraction) {
  XL_CHECK(train_fraction >= 0 && train_fraction <= 1, "manifest: train_fraction = ", train_fraction,
           ", expected [0, 1]");
  m.split_seed = seed;
  m.train_fraction = train_fraction;
  std::set<std::string> patients;
  for (const auto& e : m.cases) patients.insert(e.patient);
  auto key = [&](const std::string& p) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char ch : p) h = (h ^ ch) * 1099511628211ull;
    return detail::mix64(h ^ detail::mix64(seed));
  };
  std::vector<std::string> order(patients.begin(), patients.end());
  std::sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) { return key(a) < key(b); });
  const std::size_t train = static_cast<std::size_t>(std::lround(train_fraction * double(order.size())));
  std::map<std::string, std::string> split;
  for (std::size_t i = 0; i < order.size(); ++i) split[order[i]] = i < train ? "train" : "val";
  for (auto& e : m.cases) e.split = split[e.patient];
}

void write_manifest(const fs::path& file, const Manifest& m) {
  nlohmann::json cases = nlohmann::json::array(), skipped = nlohmann::json::array();
  for (const auto& e : m.cases)
    cases.push_back({{"id", e.id},
                     {"patient", e.patient},
                     {"path", e.path},
                     {"source", e.source},
                     {"split", e.split},
                     {"nodules", e.nodules},
                     {"nodules_ignored", e.nodules_ignored},
                     {"dims", {e.dims.x(), e.dims.y(), e.dims.z()}},
                     {"spacing_mm", {e.spacing_mm.x(), e.spacing_mm.y(), e.spacing_mm.z()}}});
  for (const auto& s : m.skipped) skipped.push_back({{"path", s.path}, {"reason", s.reason}});
  const nlohmann::json j = {{"format", "xraylift.manifest"},      {"version", 1},   {"split_seed", m.split_seed},
                            {"train_fraction", m.train_fraction}, {"cases", cases}, {"skipped", skipped}};
  core::write_file_atomic(file, j.dump(2));
}

Manifest read_manifest(const fs::path& file) {
  const std::string where = file.string();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(core::read_file(file));
  } catch (const nlohmann::json::exception& e) {
    throw core::InputError(core::cat(where, ": malformed JSON (", e.what(), ")"));
  }
  XL_CHECK(j.is_object() && core::json_value(j, "format", std::string(), where) == "xraylift.manifest", where,
           ": field 'format' is not 'xraylift.manifest'");
  XL_CHECK(j.contains("cases") && j["cases"].is_array(), where, ": field 'cases' must be an array");
  Manifest m;
  // Every field through core::json_value: a wrong type names the field ("<file>: cases[2].nodules = "x",
  // expected an integer in range"), never nlohmann's own text.
  m.split_seed = core::json_value(j, "split_seed", std::uint64_t(0), where);
  m.train_fraction = core::json_value(j, "train_fraction", 0.8, where);
  const auto& cases = j["cases"];
  for (std::size_t n = 0; n < cases.size(); ++n) {
    const auto& c = cases[n];
    const std::string at = core::cat(where, ": cases[", n, "]");
    XL_CHECK(c.is_object() && c.contains("id") && c.contains("path"), at, " needs 'id' and 'path'");
    ManifestEntry e;
    e.id = core::json_value(c, "id", std::string(), at);
    e.path = core::json_value(c, "path", std::string(), at);
    XL_CHECK(!e.id.empty() && !e.path.empty(), at, ": 'id' and 'path' must be non-empty text");
    e.patient = core::json_value(c, "patient", e.id, at);
    e.source = core::json_value(c, "source", std::string(), at);
    e.split = core::json_value(c, "split", std::string("train"), at);
    XL_CHECK(e.split == "train" || e.split == "val" || e.split == "test", at, ".split = '", e.split,
             "', expected train, val or test");
    e.nodules = core::json_value(c, "nodules", 0, at);
    e.nodules_ignored = core::json_value(c, "nodules_ignored", 0, at);
    for (const char* key : {"dims", "spacing_mm"}) {
      if (!c.contains(key)) continue;
      const auto& v = c[key];
      const bool integers = std::string(key) == "dims";
      bool ok = v.is_array() && v.size() == 3;
      for (std::size_t a = 0; ok && a < 3; ++a)
        ok = integers ? v[a].is_number_integer() && v[a].get<std::int64_t>() >= 0 &&
                            v[a].get<std::int64_t>() <= std::numeric_limits<int>::max()
                      : v[a].is_number();
      XL_CHECK(ok, at, ".", key, " = ", v.dump(), ", expected three ", integers ? "non-negative integers" : "numbers");
      for (int a = 0; a < 3; ++a) {
        if (integers)
          e.dims[a] = v[a].get<int>();
        else
          e.spacing_mm[a] = v[a].get<double>();
      }
    }
    m.cases.push_back(e);
  }
  if (j.contains("skipped")) {
    XL_CHECK(j["skipped"].is_array(), where, ".skipped = ", j["skipped"].dump().substr(0, 80), ", expected a list");
    for (std::size_t n = 0; n < j["skipped"].size(); ++n) {
      const auto& s = j["skipped"][n];
      const std::string at = core::cat(where, ": skipped[", n, "]");
      m.skipped.push_back(
          {core::json_value(s, "path", std::string(), at), core::json_value(s, "reason", std::string(), at)});
    }
  }
  return m;
}

Case load_manifest_case(const fs::path& manifest_file, const ManifestEntry& e) {
  return load_case(manifest_file.parent_path() / e.path);
}

}  // namespace xraylift::data
