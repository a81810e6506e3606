#pragma once
// JSON form of one BoxRecord, shared by the box-set and view-set files (private to core).
#include <nlohmann/json.hpp>
#include <string>

#include "xraylift/core/box_set.hpp"

namespace xraylift::core {

// Validates every field; `where` names the file and entry in messages.
BoxRecord box_from_json(const nlohmann::json& entry, BoxSource default_source, const std::string& where);
// Omits fields at their defaults; `source` only when it differs from the file's.
nlohmann::json box_to_json(const BoxRecord& record, BoxSource file_source);

}  // namespace xraylift::core
