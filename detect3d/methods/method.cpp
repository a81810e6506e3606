// The registry of 3D methods and what every method shares (docs/detect3d.md "Methods").
#include "xraylift/detect3d/method.hpp"

#include <algorithm>

#include "xraylift/core/error.hpp"

namespace xraylift::detect3d {

namespace {

std::vector<MethodSpec>& registry() {
  static std::vector<MethodSpec> methods;
  return methods;
}

}  // namespace

void CaseViews::validate() const {
  XL_CHECK(!cameras.empty(), origin, ": no views (a case needs cameras and images)");
  XL_CHECK(images.defined() && images.dim() == 4 && images.size(0) == static_cast<int64_t>(cameras.size()) &&
               images.size(1) == 1,
           origin, ": images ", images.defined() ? images.sizes() : torch::IntArrayRef{}, " for ", cameras.size(),
           " cameras (expected [V, 1, H, W])");
  for (std::size_t v = 0; v < cameras.size(); ++v)
    XL_CHECK(cameras[v].width() == images.size(3) && cameras[v].height() == images.size(2), origin, ": view ", v, " ('",
             cameras[v].name(), "') camera is ", cameras[v].width(), " x ", cameras[v].height(),
             " px but its image is ", images.size(3), " x ", images.size(2));
  XL_CHECK(!oracle_2d || oracle_2d->size() == cameras.size(), origin, ": oracle boxes for ",
           oracle_2d ? oracle_2d->size() : 0, " views, the case has ", cameras.size());
}

train::LossFunction Method::loss_function(const torch::Device&) {
  std::string trainable;
  for (const auto& m : registry())
    if (m.trainable) trainable += core::cat(trainable.empty() ? "" : " | ", m.name);
  throw core::ConfigError(core::cat("detect3d.method ", name(),
                                    " has no trained parameters of its own: train its 2D detector with task: detect2d, "
                                    "or train a method that has (",
                                    trainable, ")"));
}

bool register_method(MethodSpec spec) {
  XL_CHECK(!spec.name.empty() && spec.parse && spec.make, "register_method: a method needs a name, parse and make");
  auto& methods = registry();
  for (const auto& m : methods)
    XL_CHECK(m.name != spec.name, "register_method: method '", spec.name, "' is registered twice");
  methods.push_back(std::move(spec));
  std::sort(methods.begin(), methods.end(), [](const MethodSpec& a, const MethodSpec& b) { return a.name < b.name; });
  return true;
}

const std::vector<MethodSpec>& registered_methods() { return registry(); }

std::string method_names() {
  std::string out;
  for (const auto& m : registry()) out += core::cat(out.empty() ? "" : " | ", m.name);
  return out;
}

const MethodSpec& method_spec(const std::string& name, const std::string& origin) {
  for (const auto& m : registry())
    if (m.name == name) return m;
  throw core::ConfigError(
      core::cat("detect3d.method must be one of ", method_names(), ", got '", name, "' (", origin, ")"));
}

}  // namespace xraylift::detect3d
