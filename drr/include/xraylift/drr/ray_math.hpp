#pragma once
// Per-ray DRR math shared by the CPU and CUDA twins (plain structs, XL_HD functions, no Eigen, no std).
// Coordinates: a ray is parametrised by its length a (mm) from the source: p(a) = source + a * dir (dir unit).
// The volume is seen in "cell coordinates" g = (p - lo) / spacing, where lo is the corner of voxel (0,0,0)'s cell
// (core/volume.hpp: a value sits at its voxel centre, cells cover centre +- spacing/2), so voxel i covers
// [i, i+1) and its centre is g = i + 0.5 (this is also the CUDA texture convention, so tex3D(g) needs no shift).
// Real is double on the CPU reference and float on the GPU.
#include <cmath>
#include <cstring>

#include "xraylift/core/hd_camera.hpp"

namespace xraylift::drr {

// The voxel grid as kernels see it.
struct GridF {
  int nx, ny, nz;
  float lo[3];       // world mm of the low corner of the voxel box (cell of voxel 0 minus half a voxel)
  float spacing[3];  // mm
};

template <typename Real>
struct RayT {
  Real o[3];  // source, world mm
  Real d[3];  // unit direction
};

// Ray through continuous pixel (u, v) of camera cam; direction normalised in Real precision.
template <typename Real>
XL_HD RayT<Real> camera_ray(const core::PinholeF& cam, float u, float v) {
  const core::Float3 d = cam.ray_direction(u, v);
  const Real dx = d.x, dy = d.y, dz = d.z;
  const Real n = sqrt(dx * dx + dy * dy + dz * dz);
  RayT<Real> r;
  r.o[0] = cam.source[0];
  r.o[1] = cam.source[1];
  r.o[2] = cam.source[2];
  r.d[0] = dx / n;
  r.d[1] = dy / n;
  r.d[2] = dz / n;
  return r;
}

// Slab clipping of a ray against the box [lo, hi]; a in [a0, a1] is inside. Returns false when it misses
// (or touches only an edge). Starts at a >= 0: nothing behind the source counts.
template <typename Real>
XL_HD bool clip_ray_to_box(const RayT<Real>& ray, const Real lo[3], const Real hi[3], Real& a0, Real& a1) {
  Real t0 = 0;
  Real t1 = Real(1e30);
  for (int ax = 0; ax < 3; ++ax) {
    const Real o = ray.o[ax];
    const Real d = ray.d[ax];
    if (d == Real(0)) {
      if (o < lo[ax] || o > hi[ax]) return false;
      continue;
    }
    const Real inv = Real(1) / d;
    Real ta = (lo[ax] - o) * inv;
    Real tb = (hi[ax] - o) * inv;
    if (ta > tb) {
      const Real s = ta;
      ta = tb;
      tb = s;
    }
    if (ta > t0) t0 = ta;
    if (tb < t1) t1 = tb;
  }
  a0 = t0;
  a1 = t1;
  return t1 > t0;
}

template <typename Real>
XL_HD bool clip_ray_to_grid(const RayT<Real>& ray, const GridF& g, Real& a0, Real& a1) {
  const Real lo[3] = {g.lo[0], g.lo[1], g.lo[2]};
  const Real hi[3] = {g.lo[0] + Real(g.spacing[0]) * g.nx, g.lo[1] + Real(g.spacing[1]) * g.ny,
                      g.lo[2] + Real(g.spacing[2]) * g.nz};
  return clip_ray_to_box(ray, lo, hi, a0, a1);
}

// Clipping to a sub-box of whole cells [cell_lo, cell_hi) (cell indices, hi exclusive) of the grid: the GPU keeps
// the full volume resident and clips every ray to the support box (voxels with mu > 0 plus one voxel), which is
// the box the CPU crops its volume to (render.cpp), so both march and traverse the same segment. An empty box
// (cell_lo >= cell_hi on an axis) misses every ray.
template <typename Real>
XL_HD bool clip_ray_to_cells(const RayT<Real>& ray, const GridF& g, const int cell_lo[3], const int cell_hi[3],
                             Real& a0, Real& a1) {
  Real lo[3], hi[3];
  for (int ax = 0; ax < 3; ++ax) {
    if (cell_lo[ax] >= cell_hi[ax]) return false;
    lo[ax] = Real(g.lo[ax]) + Real(g.spacing[ax]) * Real(cell_lo[ax]);
    hi[ax] = Real(g.lo[ax]) + Real(g.spacing[ax]) * Real(cell_hi[ax]);
  }
  return clip_ray_to_box(ray, lo, hi, a0, a1);
}

XL_HD int clamp_index(int i, int n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

// Siddon / Jacobs incremental traversal: calls visit(linear_voxel_index, segment_length_mm) for every voxel the
// clipped segment [a0, a1] crosses, in order. Exact up to floating-point rounding of the crossing parameters.
template <typename Real, typename Visit>
XL_HD void siddon_traverse(const RayT<Real>& ray, const GridF& g, Real a0, Real a1, Visit&& visit) {
  const int n[3] = {g.nx, g.ny, g.nz};
  int idx[3];
  int step[3];
  Real a_next[3];
  Real a_step[3];
  for (int ax = 0; ax < 3; ++ax) {
    const Real sp = g.spacing[ax];
    const Real entry = (ray.o[ax] + a0 * ray.d[ax] - Real(g.lo[ax])) / sp;  // cell coordinate at entry
    const Real d = ray.d[ax];
    if (d > Real(0)) {
      int i = static_cast<int>(floor(entry));
      i = clamp_index(i, n[ax]);
      idx[ax] = i;
      step[ax] = 1;
      a_step[ax] = sp / d;
      a_next[ax] = a0 + (Real(i + 1) - entry) * a_step[ax];
    } else if (d < Real(0)) {
      int i = static_cast<int>(ceil(entry)) - 1;
      i = clamp_index(i, n[ax]);
      idx[ax] = i;
      step[ax] = -1;
      a_step[ax] = -sp / d;
      a_next[ax] = a0 + (entry - Real(i)) * a_step[ax];
    } else {
      idx[ax] = clamp_index(static_cast<int>(floor(entry)), n[ax]);
      step[ax] = 0;
      a_step[ax] = Real(1e30);
      a_next[ax] = Real(1e30);
    }
  }
  // Scalars instead of arrays indexed by the axis, so the loop state stays in registers; the linear index moves
  // incrementally and the loop ends when the segment ends or an index leaves the grid.
  const long long stride[3] = {1, g.nx, static_cast<long long>(g.nx) * g.ny};
  long long lin = idx[0] * stride[0] + idx[1] * stride[1] + idx[2] * stride[2];
  const long long dx = step[0] * stride[0], dy = step[1] * stride[1], dz = step[2] * stride[2];
  // Crossings left on each axis before the index leaves the grid.
  int left_x = step[0] > 0 ? n[0] - 1 - idx[0] : (step[0] < 0 ? idx[0] : 0x7fffffff);
  int left_y = step[1] > 0 ? n[1] - 1 - idx[1] : (step[1] < 0 ? idx[1] : 0x7fffffff);
  int left_z = step[2] > 0 ? n[2] - 1 - idx[2] : (step[2] < 0 ? idx[2] : 0x7fffffff);
  // The k-th crossing of an axis is first + k * step, never a running sum: in float, hundreds of `+= step`
  // drift by many ulps of the ray length and move every later segment boundary (docs/drr.md, "Precision").
  const Real fx = a_next[0], fy = a_next[1], fz = a_next[2];
  const Real tx = a_step[0], ty = a_step[1], tz = a_step[2];
  int kx = 0, ky = 0, kz = 0;
  Real nx = fx, ny = fy, nz = fz;
  Real a = a0;
  for (;;) {
    if (nx <= ny && nx <= nz) {
      if (nx >= a1) break;
      if (nx > a) visit(lin, nx - a);
      a = nx;
      if (left_x-- == 0) return;
      lin += dx;
      nx = fx + Real(++kx) * tx;
    } else if (ny <= nz) {
      if (ny >= a1) break;
      if (ny > a) visit(lin, ny - a);
      a = ny;
      if (left_y-- == 0) return;
      lin += dy;
      ny = fy + Real(++ky) * ty;
    } else {
      if (nz >= a1) break;
      if (nz > a) visit(lin, nz - a);
      a = nz;
      if (left_z-- == 0) return;
      lin += dz;
      nz = fz + Real(++kz) * tz;
    }
  }
  if (a1 > a) visit(lin, a1 - a);
}

// Siddon line integral of mu (x fastest) along the clipped segment.
template <typename Real>
XL_HD Real siddon_integral(const float* mu, const RayT<Real>& ray, const GridF& g, Real a0, Real a1) {
  Real sum = 0;
  siddon_traverse(ray, g, a0, a1, [&](long long v, Real len) { sum += len * Real(mu[v]); });
  return sum;
}

// Trilinear interpolation at cell coordinate (gx, gy, gz) (voxel centres at i + 0.5), clamp-to-edge: the same
// value the CUDA texture unit returns with cudaAddressModeClamp and cudaFilterModeLinear (up to its 8-bit weights).
template <typename Real>
XL_HD Real trilinear_sample(const float* mu, const GridF& g, Real gx, Real gy, Real gz) {
  const Real c[3] = {gx - Real(0.5), gy - Real(0.5), gz - Real(0.5)};
  const int n[3] = {g.nx, g.ny, g.nz};
  int i0[3], i1[3];
  Real f[3];
  for (int ax = 0; ax < 3; ++ax) {
    Real x = c[ax];
    if (x < Real(0)) x = Real(0);
    const Real top = Real(n[ax] - 1);
    if (x > top) x = top;
    int i = static_cast<int>(floor(x));
    if (i > n[ax] - 2) i = n[ax] - 2;
    if (i < 0) i = 0;
    i0[ax] = i;
    i1[ax] = n[ax] > 1 ? i + 1 : i;
    f[ax] = x - Real(i);
  }
  const long long sy = g.nx, sz = static_cast<long long>(g.nx) * g.ny;
  auto at = [&](int i, int j, int k) { return Real(mu[i + j * sy + k * sz]); };
  const Real c00 = at(i0[0], i0[1], i0[2]) * (1 - f[0]) + at(i1[0], i0[1], i0[2]) * f[0];
  const Real c10 = at(i0[0], i1[1], i0[2]) * (1 - f[0]) + at(i1[0], i1[1], i0[2]) * f[0];
  const Real c01 = at(i0[0], i0[1], i1[2]) * (1 - f[0]) + at(i1[0], i0[1], i1[2]) * f[0];
  const Real c11 = at(i0[0], i1[1], i1[2]) * (1 - f[0]) + at(i1[0], i1[1], i1[2]) * f[0];
  const Real c0 = c00 * (1 - f[1]) + c10 * f[1];
  const Real c1 = c01 * (1 - f[1]) + c11 * f[1];
  return c0 * (1 - f[2]) + c1 * f[2];
}

// The same trilinear value from a copy of the volume padded by one edge-replicated voxel on every side
// (dims + 2): replication is clamp-to-edge, so no per-sample clamping is needed (the CPU fast path; the texture
// unit does the equivalent in hardware). px = nx + 2, pxy = (nx + 2) * (ny + 2).
template <typename Real>
XL_HD Real trilinear_sample_padded(const float* padded, int px, long long pxy, const int upper[3], Real gx, Real gy,
                                   Real gz) {
  // Padded index coordinate: centre of original voxel i sits at i + 1, so c = g - 0.5 + 1.
  Real c[3] = {gx + Real(0.5), gy + Real(0.5), gz + Real(0.5)};
  int i[3];
  for (int ax = 0; ax < 3; ++ax) {
    if (c[ax] < Real(0)) c[ax] = Real(0);
    i[ax] = static_cast<int>(c[ax]);
    if (i[ax] > upper[ax]) i[ax] = upper[ax];  // upper = n: i + 1 = n + 1 is the last padded voxel
    c[ax] -= Real(i[ax]);
    if (c[ax] > Real(1)) c[ax] = Real(1);
  }
  const float* p = padded + i[0] + px * static_cast<long long>(i[1]) + pxy * i[2];
  const Real fx = c[0], fy = c[1], fz = c[2];
  const Real c00 = p[0] + fx * (p[1] - p[0]);
  const Real c10 = p[px] + fx * (p[px + 1] - p[px]);
  const Real c01 = p[pxy] + fx * (p[pxy + 1] - p[pxy]);
  const Real c11 = p[pxy + px] + fx * (p[pxy + px + 1] - p[pxy + px]);
  const Real c0 = c00 + fy * (c10 - c00);
  const Real c1 = c01 + fy * (c11 - c01);
  return c0 + fz * (c1 - c0);
}

// Midpoint-rule ray marching: the clipped segment is split into N = ceil(length / step) equal parts and each is
// weighted by its length, so a uniform volume integrates exactly. `sample(gx, gy, gz)` returns mu at a cell
// coordinate (CPU: trilinear_sample, GPU: tex3D).
template <typename Real, typename Sample>
XL_HD Real march_integral(const RayT<Real>& ray, const GridF& g, Real a0, Real a1, Real step_mm, Sample&& sample) {
  const Real length = a1 - a0;
  if (!(length > Real(0))) return Real(0);
  int count = static_cast<int>(ceil(length / step_mm));
  if (count < 1) count = 1;
  const Real h = length / Real(count);
  const Real inv[3] = {Real(1) / Real(g.spacing[0]), Real(1) / Real(g.spacing[1]), Real(1) / Real(g.spacing[2])};
  // Cell coordinates of the first sample and their increment per step.
  Real p[3], dp[3];
  for (int ax = 0; ax < 3; ++ax) {
    p[ax] = (ray.o[ax] + (a0 + Real(0.5) * h) * ray.d[ax] - Real(g.lo[ax])) * inv[ax];
    dp[ax] = h * ray.d[ax] * inv[ax];
  }
  Real sum = 0;
  for (int s = 0; s < count; ++s) {
    const Real fs = Real(s);
    sum += sample(p[0] + fs * dp[0], p[1] + fs * dp[1], p[2] + fs * dp[2]);
  }
  return sum * h;
}

// x rounded to the nearest IEEE binary16 value (ties to even), returned as a float: what the half-precision
// texture stores (the CUDA twin converts with this function too, so both devices sample the same field).
// Magnitudes beyond the half range (65504) become infinity, below 2^-14 they round to the subnormal grid 2^-24.
XL_HD float round_to_half(float x) {
  const float a = x < 0.0f ? -x : x;
  if (!(a == a)) return x;  // NaN
  if (a >= 65520.0f) return x < 0.0f ? -INFINITY : INFINITY;
  if (a < 6.103515625e-05f) {
    // Subnormal halves are multiples of 2^-24: scaling by 2^24 is exact, rint rounds ties to even.
    return rintf(x * 16777216.0f) * 5.9604644775390625e-08f;
  }
  unsigned int u;
  memcpy(&u, &x, sizeof u);
  // Keep 10 of float's 23 mantissa bits, round to nearest even (a carry into the exponent is the right answer).
  u += 0x0FFFu + ((u >> 13) & 1u);
  u &= ~0x1FFFu;
  float r;
  memcpy(&r, &u, sizeof r);
  return r;
}

// HU -> linear attenuation (/mm), docs/drr.md: mu = mu_water (1 + HU/1000) clamped at 0; with the bone boost
// on, above bone_start_hu mu rises linearly to mu_bone at +1000 HU (nanodrr: 0.0192 and 0.0573 /mm, start 0 HU),
// continuous at bone_start_hu.
struct AttenuationModel {
  float mu_water;
  float mu_bone;
  float bone_start_hu;
  int bone_boost;  // 0 or 1
};

XL_HD float hu_to_mu(float hu, const AttenuationModel& m) {
  float mu = m.mu_water * (1.0f + hu / 1000.0f);
  if (m.bone_boost && hu > m.bone_start_hu) {
    const float mu_start = m.mu_water * (1.0f + m.bone_start_hu / 1000.0f);
    mu = mu_start + (m.mu_bone - mu_start) * (hu - m.bone_start_hu) / (1000.0f - m.bone_start_hu);
  }
  return mu > 0.0f ? mu : 0.0f;
}

}  // namespace xraylift::drr
