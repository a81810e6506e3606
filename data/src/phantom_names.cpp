#include "xraylift/core/error.hpp"
#include "xraylift/data/phantom.hpp"

namespace xraylift::data {

const char* to_string(NoduleKind k) {
  switch (k) {
    case NoduleKind::kSolid:
      return "solid";
    case NoduleKind::kPartSolid:
      return "part-solid";
    case NoduleKind::kGroundGlass:
      return "ground-glass";
  }
  return "?";
}
const char* to_string(NoduleShape s) {
  switch (s) {
    case NoduleShape::kSphere:
      return "sphere";
    case NoduleShape::kLobulated:
      return "lobulated";
    case NoduleShape::kSpiculated:
      return "spiculated";
  }
  return "?";
}
const char* to_string(NoduleSite s) {
  switch (s) {
    case NoduleSite::kParenchyma:
      return "parenchyma";
    case NoduleSite::kJuxtaPleural:
      return "juxta-pleural";
    case NoduleSite::kJuxtaVascular:
      return "juxta-vascular";
  }
  return "?";
}

const char* to_string(PhantomAnatomy a) { return a == PhantomAnatomy::kChest ? "chest" : "simple"; }

PhantomAnatomy parse_phantom_anatomy(const std::string& s, const std::string& where) {
  if (s == "simple") return PhantomAnatomy::kSimple;
  if (s == "chest") return PhantomAnatomy::kChest;
  throw core::ConfigError(core::cat(where, " = '", s, "', expected simple or chest"));
}

}  // namespace xraylift::data
