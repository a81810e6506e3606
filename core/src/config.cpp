#include "xraylift/core/config.hpp"

#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "xraylift/core/atomic_file.hpp"

namespace fs = std::filesystem;

namespace xraylift::core {

struct Config::State {
  YAML::Node root = YAML::Node(YAML::NodeType::Map);
  std::map<std::string, std::string> origins;  // leaf key -> file or "--set"
  mutable std::mutex mutex;
  mutable std::set<std::string> read;  // full keys read (a key also covers everything below it)
};

namespace {

std::vector<std::string> split_key(const std::string& key) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream ss(key);
  while (std::getline(ss, part, '.')) parts.push_back(part);
  return parts;
}

// Every mapping key (at any depth, lists included) must be plain text: YAML also allows lists or maps as keys
// ("[0, 1]: x", "? {a: 1}"), which no config uses and which the key paths cannot name (found by fuzzing).
void check_keys(const YAML::Node& node, const std::string& where, const std::string& prefix) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      if (!kv.first.IsScalar())
        throw ConfigError(cat(where, ": a key ",
                              prefix.empty() ? std::string("at the top level") : "under '" + prefix + "'",
                              " is not plain text (line ", kv.first.Mark().line + 1, ")"));
      const std::string k = kv.first.Scalar();
      check_keys(kv.second, where, prefix.empty() ? k : prefix + "." + k);
    }
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) check_keys(node[i], where, cat(prefix, "[", i, "]"));
  }
}

// Records the origin of every leaf below `node` (maps recurse; lists and scalars are leaves).
void record_origins(const YAML::Node& node, const std::string& prefix, const std::string& origin,
                    std::map<std::string, std::string>& origins) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const std::string k = prefix.empty() ? kv.first.as<std::string>() : prefix + "." + kv.first.as<std::string>();
      record_origins(kv.second, k, origin, origins);
    }
  } else if (!prefix.empty()) {
    // An overridden subtree replaces whatever was below it.
    for (auto it = origins.lower_bound(prefix + "."); it != origins.end() && it->first.rfind(prefix + ".", 0) == 0;)
      it = origins.erase(it);
    origins[prefix] = origin;
  }
}

void deep_merge(YAML::Node base, const YAML::Node& over) {
  for (const auto& kv : over) {
    const std::string k = kv.first.as<std::string>();
    if (kv.second.IsMap() && base[k] && base[k].IsMap()) {
      deep_merge(base[k], kv.second);
    } else {
      base[k] = YAML::Clone(kv.second);
    }
  }
}

YAML::Node load_with_bases(const fs::path& file, std::map<std::string, std::string>& origins,
                           std::vector<fs::path>& stack) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(file, ec);
  // error_code forms: a name the OS rejects (too long, say) is a config error, not a filesystem_error.
  const bool exists = fs::exists(file, ec);
  if (ec) throw ConfigError(cat("config file '", file.string(), "' cannot be opened: ", ec.message()));
  if (!exists) throw ConfigError(cat("config file '", file.string(), "' does not exist"));
  if (fs::is_directory(file, ec)) throw ConfigError(cat("config file '", file.string(), "' is a folder"));
  for (const auto& f : stack) {
    if (f == canonical) throw ConfigError(cat("config file '", file.string(), "': circular 'base:' include"));
  }
  stack.push_back(canonical);
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(file.string());
  } catch (const YAML::Exception& e) {
    throw ConfigError(cat("config file '", file.string(), "': invalid YAML at line ", e.mark.line + 1, ": ", e.msg));
  }
  if (doc.IsNull()) doc = YAML::Node(YAML::NodeType::Map);
  if (!doc.IsMap()) throw ConfigError(cat("config file '", file.string(), "': expected a mapping at the top level"));
  check_keys(doc, cat("config file '", file.string(), "'"), "");

  YAML::Node merged(YAML::NodeType::Map);
  if (doc["base"]) {
    std::vector<std::string> bases;
    const YAML::Node b = doc["base"];
    if (b.IsScalar()) {
      bases.push_back(b.as<std::string>());
    } else if (b.IsSequence()) {
      for (const auto& e : b) {
        if (!e.IsScalar())
          throw ConfigError(cat("config file '", file.string(), "': 'base' must be a file name or a list of them"));
        bases.push_back(e.as<std::string>());
      }
    } else {
      throw ConfigError(cat("config file '", file.string(), "': 'base' must be a file name or a list of them"));
    }
    for (const auto& name : bases) {
      const fs::path p = fs::path(name).is_absolute() ? fs::path(name) : file.parent_path() / name;
      deep_merge(merged, load_with_bases(p, origins, stack));
    }
    doc.remove("base");
  }
  record_origins(doc, "", file.string(), origins);
  deep_merge(merged, doc);
  stack.pop_back();
  return merged;
}

void collect_leaves(const YAML::Node& node, const std::string& prefix, std::vector<std::string>& out) {
  if (node.IsMap() && node.size() > 0) {
    for (const auto& kv : node) {
      collect_leaves(kv.second, prefix.empty() ? kv.first.as<std::string>() : prefix + "." + kv.first.as<std::string>(),
                     out);
    }
  } else if (!prefix.empty()) {
    out.push_back(prefix);
  }
}

}  // namespace

Config::Config() : state_(std::make_shared<State>()) {}
Config::Config(std::shared_ptr<State> state, std::string prefix)
    : state_(std::move(state)), prefix_(std::move(prefix)) {}

Config Config::load(const fs::path& file) {
  Config c;
  std::vector<fs::path> stack;
  c.state_->root = load_with_bases(file, c.state_->origins, stack);
  return c;
}

Config Config::from_yaml(const std::string& text, const std::string& origin) {
  Config c;
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(cat("config '", origin, "': invalid YAML at line ", e.mark.line + 1, ": ", e.msg));
  }
  if (doc.IsNull()) doc = YAML::Node(YAML::NodeType::Map);
  if (!doc.IsMap()) throw ConfigError(cat("config '", origin, "': expected a mapping at the top level"));
  check_keys(doc, cat("config '", origin, "'"), "");
  c.state_->root = doc;
  record_origins(doc, "", origin, c.state_->origins);
  return c;
}

std::string Config::full_key(const std::string& key) const { return prefix_ + key; }

void Config::set(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(cat("--set '", assignment, "': expected key=value (for example rig.sad_mm=1000)"));
  const std::string key = full_key(assignment.substr(0, eq));
  const std::string text = assignment.substr(eq + 1);
  YAML::Node value;
  try {
    value = text.empty() ? YAML::Node(std::string()) : YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(cat("--set '", assignment, "': value is not valid YAML: ", e.msg));
  }
  check_keys(value, cat("--set '", assignment, "'"), key);
  const auto parts = split_key(key);
  for (const auto& p : parts)
    if (p.empty()) throw ConfigError(cat("--set '", assignment, "': key has an empty part"));
  YAML::Node cursor;
  cursor.reset(state_->root);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const YAML::Node& parent = cursor;
    const YAML::Node existing = parent[parts[i]];  // const []: a missing key is a zombie, never inserted
    if (!existing || existing.IsNull()) {
      cursor[parts[i]] = YAML::Node(YAML::NodeType::Map);
    } else if (!existing.IsMap()) {
      std::string sofar;
      for (size_t j = 0; j <= i; ++j) sofar += (j ? "." : "") + parts[j];
      throw ConfigError(cat("--set '", assignment, "': '", sofar, "' is a value, not a section"));
    }
    YAML::Node next = cursor[parts[i]];
    cursor.reset(next);
  }
  cursor[parts.back()] = value;
  record_origins(value, key, "--set", state_->origins);
}

void Config::set_all(const std::vector<std::string>& assignments) {
  for (const auto& a : assignments) set(a);
}

YAML::Node Config::lookup(const std::string& key) const {
  // Node::operator= writes through the reference in yaml-cpp, so walk with reset(); const [] never inserts.
  YAML::Node n;
  n.reset(state_->root);
  for (const auto& part : split_key(full_key(key))) {
    if (!n.IsMap()) return YAML::Node();
    const YAML::Node& parent = n;
    const YAML::Node child = parent[part];
    if (!child) return YAML::Node();
    n.reset(child);
  }
  return n;
}

bool Config::has(const std::string& key) const {
  const YAML::Node n = lookup(key);
  return n && !n.IsNull();
}

void Config::mark_read(const std::string& key, const YAML::Node&) const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->read.insert(key);
}

YAML::Node Config::node(const std::string& key) const {
  const YAML::Node n = lookup(key);
  if (n) mark_read(full_key(key), n);
  return n;
}

Config Config::section(const std::string& key) const {
  const YAML::Node n = lookup(key);
  if (n && !n.IsNull() && !n.IsMap())
    throw ConfigError(cat("config key '", full_key(key), "' (from ", origin(key), "): expected a section (a mapping)"));
  return Config(state_, full_key(key) + ".");
}

std::string Config::origin(const std::string& key) const {
  const std::string k = full_key(key);
  auto it = state_->origins.find(k);
  if (it != state_->origins.end()) return it->second;
  // A section: report the origin of its first leaf.
  it = state_->origins.lower_bound(k + ".");
  if (it != state_->origins.end() && it->first.rfind(k + ".", 0) == 0) return it->second;
  return "defaults";
}

void Config::type_error(const std::string& key, const YAML::Node& node, const char* expected) const {
  std::string got;
  if (node.IsScalar()) {
    got = cat("'", node.Scalar(), "'");
  } else if (node.IsSequence()) {
    got = "a list";
  } else if (node.IsMap()) {
    got = "a section";
  } else {
    got = "nothing";
  }
  throw ConfigError(
      cat("config key '", full_key(key), "' (from ", origin(key), "): expected ", expected, ", got ", got));
}

std::vector<std::string> Config::unknown_keys() const {
  std::vector<std::string> leaves;
  collect_leaves(state_->root, "", leaves);
  std::vector<std::string> unknown;
  std::lock_guard<std::mutex> lock(state_->mutex);
  for (const auto& leaf : leaves) {
    bool covered = false;
    // A read of "a.b" covers "a.b" and everything below it.
    std::string k = leaf;
    while (true) {
      if (state_->read.count(k)) {
        covered = true;
        break;
      }
      const auto dot = k.rfind('.');
      if (dot == std::string::npos) break;
      k = k.substr(0, dot);
    }
    if (!covered) unknown.push_back(leaf);
  }
  return unknown;
}

void Config::check_no_unknown_keys() const {
  const auto unknown = unknown_keys();
  if (unknown.empty()) return;
  std::string msg = "unknown config key";
  msg += unknown.size() > 1 ? "s: " : ": ";
  for (size_t i = 0; i < unknown.size(); ++i) {
    auto it = state_->origins.find(unknown[i]);
    msg += cat(i ? ", " : "", "'", unknown[i], "' (from ", it == state_->origins.end() ? "?" : it->second, ")");
  }
  msg += " (misspelled, or not used by this command)";
  throw ConfigError(msg);
}

void Config::check_section_keys(const std::vector<std::string>& known) const {
  std::string unknown;
  for (const auto& key : unknown_keys()) {
    if (key.rfind(prefix_, 0) != 0) continue;
    auto it = state_->origins.find(key);
    unknown +=
        cat(unknown.empty() ? "" : ", ", "'", key, "' (from ", it == state_->origins.end() ? "?" : it->second, ")");
  }
  if (unknown.empty()) return;
  std::string names;
  for (const auto& k : known) names += cat(names.empty() ? "" : ", ", k);
  const std::string section =
      prefix_.empty() ? "the config" : cat("section '", prefix_.substr(0, prefix_.size() - 1), "'");
  throw ConfigError(cat("unknown key ", unknown, " in ", section, "; known: ", names));
}

std::string Config::dump() const {
  YAML::Emitter out;
  out << state_->root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace xraylift::core
