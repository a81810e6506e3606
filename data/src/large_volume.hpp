#pragma once
// Allocation of large volumes. A fresh 70 MB volume costs ~17k page faults (tens of ms on a VM, more than
// reading the DICOM files); asking the kernel for transparent huge pages on the buffer cuts that to a few ms.
#include <sys/mman.h>

#include <cstdint>

#include "xraylift/core/volume.hpp"

namespace xraylift::data::detail {

template <typename T>
core::Volume<T> allocate_volume(const core::VolumeGeometry& g, T fill = T{}) {
  g.validate("volume");
  core::Volume<T> v;
  v.geometry() = g;
  auto& values = v.values();
  const std::size_t n = static_cast<std::size_t>(g.voxel_count());
  values.reserve(n);
  constexpr std::uintptr_t kHuge = 2u << 20;
  if (n * sizeof(T) >= 4 * kHuge) {
    const auto begin = (reinterpret_cast<std::uintptr_t>(values.data()) + kHuge - 1) & ~(kHuge - 1);
    const auto end = reinterpret_cast<std::uintptr_t>(values.data() + n) & ~(kHuge - 1);
    if (end > begin)
      ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);  // a hint; failure is harmless
  }
  values.resize(n, fill);
  return v;
}

}  // namespace xraylift::data::detail
