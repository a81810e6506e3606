// Builds without CUDA: the boundary exists so callers compile, and every entry says why it cannot run.
#ifndef XRAYLIFT_WITH_CUDA
#include "xraylift/core/error.hpp"
#include "xraylift/drr/cuda_backend.hpp"

namespace xraylift::drr::cuda {

struct CudaVolume::Impl {
  GridF grid;
  VolumeOptions options;
};

bool available() { return false; }

long long attenuation_on_device(const float*, float*, std::size_t, const AttenuationModel&, void*) {
  throw core::InputError("drr: this build has no CUDA support");
}

CudaVolume::CudaVolume(const float*, const GridF&, bool, const VolumeOptions&, void*, bool) {
  throw core::InputError("drr: this build has no CUDA support (configure with XRAYLIFT_CUDA=ON and nvcc)");
}
CudaVolume::~CudaVolume() = default;
const GridF& CudaVolume::grid() const { return impl_->grid; }
const VolumeOptions& CudaVolume::options() const { return impl_->options; }
int CudaVolume::device() const { return -1; }
void CudaVolume::support_cells(int*, int*) const { throw core::InputError("drr: this build has no CUDA support"); }
void CudaVolume::render(const std::vector<core::PinholeF>&, const KernelOptions&, float*, void*) const {
  throw core::InputError("drr: this build has no CUDA support");
}
std::vector<float> CudaVolume::render_to_host(const std::vector<core::PinholeF>&, const KernelOptions&) const {
  throw core::InputError("drr: this build has no CUDA support");
}

}  // namespace xraylift::drr::cuda
#endif
