// Autograd kernels of xraylift::roi_align and xraylift::_roi_align_backward (torchvision's pattern): the forward
// runs the device kernel below autograd; the backward is the _roi_align_backward op; double backward is refused.
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/library.h>

#include "../ops.hpp"

namespace xraylift::detect2d {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class RoIAlignFunction : public torch::autograd::Function<RoIAlignFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& rois,
                               double spatial_scale, std::int64_t pooled_height, std::int64_t pooled_width,
                               std::int64_t sampling_ratio, bool aligned) {
    ctx->saved_data["spatial_scale"] = spatial_scale;
    ctx->saved_data["pooled_height"] = pooled_height;
    ctx->saved_data["pooled_width"] = pooled_width;
    ctx->saved_data["sampling_ratio"] = sampling_ratio;
    ctx->saved_data["aligned"] = aligned;
    ctx->saved_data["input_shape"] = input.sizes();
    ctx->save_for_backward({rois});
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    return {ops::roi_align(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned)};
  }

  static variable_list backward(AutogradContext* ctx, const variable_list& grad_output) {
    const auto rois = ctx->get_saved_variables()[0];
    const auto shape = ctx->saved_data["input_shape"].toIntVector();
    const auto grad_input = ops::roi_align_backward(
        grad_output[0], rois, ctx->saved_data["spatial_scale"].toDouble(), ctx->saved_data["pooled_height"].toInt(),
        ctx->saved_data["pooled_width"].toInt(), shape[0], shape[1], shape[2], shape[3],
        ctx->saved_data["sampling_ratio"].toInt(), ctx->saved_data["aligned"].toBool());
    return {grad_input, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

class RoIAlignBackwardFunction : public torch::autograd::Function<RoIAlignBackwardFunction> {
 public:
  static variable_list forward(AutogradContext*, const at::Tensor& grad, const at::Tensor& rois, double spatial_scale,
                               std::int64_t pooled_height, std::int64_t pooled_width, std::int64_t batch_size,
                               std::int64_t channels, std::int64_t height, std::int64_t width,
                               std::int64_t sampling_ratio, bool aligned) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    return {ops::roi_align_backward(grad, rois, spatial_scale, pooled_height, pooled_width, batch_size, channels,
                                    height, width, sampling_ratio, aligned)};
  }
  static variable_list backward(AutogradContext*, const variable_list&) {
    TORCH_CHECK(false, "xraylift::roi_align: double backward is not supported");
  }
};

at::Tensor roi_align_autograd(const at::Tensor& input, const at::Tensor& rois, double spatial_scale,
                              std::int64_t pooled_height, std::int64_t pooled_width, std::int64_t sampling_ratio,
                              bool aligned) {
  return RoIAlignFunction::apply(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned)[0];
}

at::Tensor roi_align_backward_autograd(const at::Tensor& grad, const at::Tensor& rois, double spatial_scale,
                                       std::int64_t pooled_height, std::int64_t pooled_width, std::int64_t batch_size,
                                       std::int64_t channels, std::int64_t height, std::int64_t width,
                                       std::int64_t sampling_ratio, bool aligned) {
  return RoIAlignBackwardFunction::apply(grad, rois, spatial_scale, pooled_height, pooled_width, batch_size, channels,
                                         height, width, sampling_ratio, aligned)[0];
}

}  // namespace

TORCH_LIBRARY_IMPL(xraylift, Autograd, m) {
  m.impl("roi_align", TORCH_FN(roi_align_autograd));
  m.impl("_roi_align_backward", TORCH_FN(roi_align_backward_autograd));
}

}  // namespace xraylift::detect2d
