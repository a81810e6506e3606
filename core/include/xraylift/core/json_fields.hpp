#pragma once
// Typed optional fields of JSON objects read from files. nlohmann's obj.value(key, fallback) throws its own
// type_error when the key holds another type (found by fuzzing, docs/RELIABILITY.md); every reader of the
// project's JSON formats uses this instead, so a wrong type is an InputError naming the file and field.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "xraylift/core/error.hpp"

namespace xraylift::core {

// `fallback` when `obj` is not an object or has no `key`; InputError "<where>.<key> = <value>, expected <type>"
// when the value has another type (or an integer out of T's range).
template <typename T>
T json_value(const nlohmann::json& obj, const std::string& key, const T& fallback, const std::string& where) {
  if (!obj.is_object()) return fallback;
  const auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  const nlohmann::json& v = *it;
  bool ok = false;
  const char* expected = "a value of the documented type";
  if constexpr (std::is_same_v<T, bool>) {
    ok = v.is_boolean();
    expected = "true or false";
  } else if constexpr (std::is_integral_v<T>) {
    expected = "an integer in range";
    if (v.is_number_unsigned()) {
      ok = v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
    } else if (v.is_number_integer()) {
      const std::int64_t x = v.get<std::int64_t>();
      ok = (std::is_signed_v<T> || x >= 0) &&
           (std::is_signed_v<T>
                ? x >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
                      x <= static_cast<std::int64_t>(std::numeric_limits<T>::max())
                : static_cast<std::uint64_t>(x) <= static_cast<std::uint64_t>(std::numeric_limits<T>::max()));
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    ok = v.is_number();
    expected = "a number";
  } else if constexpr (std::is_same_v<T, std::string>) {
    ok = v.is_string();
    expected = "text";
  } else {
    static_assert(std::is_same_v<T, nlohmann::json>, "json_value: bool, integers, floating point, std::string or json");
    ok = true;
  }
  if (!ok) throw InputError(cat(where, ".", key, " = ", v.dump(), ", expected ", expected));
  return v.get<T>();
}

}  // namespace xraylift::core
