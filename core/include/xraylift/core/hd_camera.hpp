#pragma once
// Host/device math shared by CPU and CUDA twins (Open3D style): plain structs, no Eigen, no std.
#if defined(__CUDACC__)
#define XL_HD __host__ __device__ __forceinline__
#else
#define XL_HD inline
#endif

namespace xraylift::core {

struct Float3 {
  float x, y, z;
};

XL_HD Float3 make_f3(float x, float y, float z) { return Float3{x, y, z}; }
XL_HD Float3 operator+(Float3 a, Float3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
XL_HD Float3 operator-(Float3 a, Float3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
XL_HD Float3 operator*(float s, Float3 a) { return {s * a.x, s * a.y, s * a.z}; }
XL_HD float dot(Float3 a, Float3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }

// A pinhole camera as kernels see it. Same convention as core::Camera (see camera.hpp).
struct PinholeF {
  float fx, fy, cx, cy;
  int width, height;
  float R[9];  // row-major world -> camera rotation
  float t[3];
  float source[3];  // world position of the pinhole

  // World-space direction (not normalized) of the ray through continuous pixel coordinate (u, v):
  // R^T (K^-1 [u v 1]).
  XL_HD Float3 ray_direction(float u, float v) const {
    const float xc = (u - cx) / fx;
    const float yc = (v - cy) / fy;
    return Float3{R[0] * xc + R[3] * yc + R[6], R[1] * xc + R[4] * yc + R[7], R[2] * xc + R[5] * yc + R[8]};
  }
  XL_HD Float3 source_f3() const { return Float3{source[0], source[1], source[2]}; }
};

}  // namespace xraylift::core
