#pragma once
// Typed YAML configuration (tiny-cuda-nn style: every consumer states its defaults in code).
//   - A file may name `base: other.yaml` (or a list); bases load first (paths relative to the file), the file
//     deep-merges over them (maps merge, everything else replaces).
//   - `--set a.b=value` overrides parse `value` as YAML (so 3, 2.5, true, [1, 2] and text all work).
//   - get<T>(key, default) reads and marks a key as known; check_no_unknown_keys() then reports every key
//     that no consumer read, naming the file it came from (typos never pass silently).
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "xraylift/core/error.hpp"

namespace xraylift::core {

class Config {
 public:
  Config();  // empty: every get() returns its default
  static Config load(const std::filesystem::path& file);
  static Config from_yaml(const std::string& text, const std::string& origin = "<string>");

  // "a.b.c=value". Throws ConfigError on malformed assignments.
  void set(const std::string& assignment);
  void set_all(const std::vector<std::string>& assignments);

  bool has(const std::string& key) const;
  template <typename T>
  T get(const std::string& key, const T& fallback) const;
  template <typename T>
  T require(const std::string& key) const;
  // get() for counts and sizes: the value (given or default) must lie in [lo, hi] (NaN never does), else
  // ConfigError "config key 'rig.views' = -3 (from FILE), expected 1 .. 720". The one rule for every bounded
  // key, so that an absurd count is refused before anything is allocated or written (docs/RELIABILITY.md).
  template <typename T>
  T get_in_range(const std::string& key, const T& fallback, const T& lo, const T& hi) const;
  // Raw node (marks everything below it as read).
  YAML::Node node(const std::string& key) const;
  // A view of a sub-map: keys are relative to it; reads are tracked on the whole config.
  Config section(const std::string& key) const;
  // Where a key's value came from: a file path or "--set".
  std::string origin(const std::string& key) const;
  std::string full_key(const std::string& key) const;

  std::vector<std::string> unknown_keys() const;
  // Throws ConfigError listing every key that no consumer read, with its file.
  void check_no_unknown_keys() const;
  // The same for the keys below this section only, with the keys its consumer knows ("known" lists them): a
  // library that reads a section refuses its typos itself, whether or not the command checks the whole config.
  void check_section_keys(const std::vector<std::string>& known) const;
  // The effective configuration (after bases and overrides), for logging and for saving next to outputs.
  std::string dump() const;

 private:
  struct State;
  Config(std::shared_ptr<State> state, std::string prefix);
  YAML::Node lookup(const std::string& key) const;
  void mark_read(const std::string& full_key, const YAML::Node& node) const;
  [[noreturn]] void type_error(const std::string& key, const YAML::Node& node, const char* expected) const;
  template <typename T>
  T convert(const std::string& key, const YAML::Node& node) const;

  std::shared_ptr<State> state_;
  std::string prefix_;  // "" or "a.b."
};

// Type names for messages.
template <typename T>
constexpr const char* config_type_name();

template <typename T>
T Config::convert(const std::string& key, const YAML::Node& node) const {
  try {
    if constexpr (std::is_same_v<T, std::string>) {
      if (!node.IsScalar()) type_error(key, node, "a text value");
    }
    return node.as<T>();
  } catch (const YAML::Exception&) {
    type_error(key, node, config_type_name<T>());
  }
}

template <typename T>
T Config::get(const std::string& key, const T& fallback) const {
  const YAML::Node n = lookup(key);
  if (!n || n.IsNull()) {
    if (n) mark_read(full_key(key), n);
    return fallback;
  }
  mark_read(full_key(key), n);
  return convert<T>(key, n);
}

template <typename T>
T Config::require(const std::string& key) const {
  const YAML::Node n = lookup(key);
  if (!n || n.IsNull()) throw ConfigError(cat("config key '", full_key(key), "' is required but missing"));
  mark_read(full_key(key), n);
  return convert<T>(key, n);
}

template <typename T>
T Config::get_in_range(const std::string& key, const T& fallback, const T& lo, const T& hi) const {
  const T value = get<T>(key, fallback);
  if (!(value >= lo && value <= hi))
    throw ConfigError(
        cat("config key '", full_key(key), "' = ", value, " (from ", origin(key), "), expected ", lo, " .. ", hi));
  return value;
}

template <>
constexpr const char* config_type_name<double>() {
  return "a number";
}
template <>
constexpr const char* config_type_name<float>() {
  return "a number";
}
template <>
constexpr const char* config_type_name<int>() {
  return "an integer";
}
template <>
constexpr const char* config_type_name<long>() {
  return "an integer";
}
template <>
constexpr const char* config_type_name<long long>() {
  return "an integer";
}
template <>
constexpr const char* config_type_name<unsigned>() {
  return "a non-negative integer";
}
template <>
constexpr const char* config_type_name<unsigned long>() {
  return "a non-negative integer";
}
template <>
constexpr const char* config_type_name<bool>() {
  return "true or false";
}
template <>
constexpr const char* config_type_name<std::string>() {
  return "a text value";
}
template <>
constexpr const char* config_type_name<std::vector<double>>() {
  return "a list of numbers";
}
template <>
constexpr const char* config_type_name<std::vector<float>>() {
  return "a list of numbers";
}
template <>
constexpr const char* config_type_name<std::vector<int>>() {
  return "a list of integers";
}
template <>
constexpr const char* config_type_name<std::vector<std::string>>() {
  return "a list of text values";
}

}  // namespace xraylift::core
