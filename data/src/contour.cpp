#include "xraylift/data/contour.hpp"

#include <algorithm>
#include <cmath>

#include "xraylift/core/error.hpp"

namespace xraylift::data {

std::vector<std::vector<Eigen::Vector2d>> trace_outlines(const std::vector<std::uint8_t>& mask, int width, int height) {
  XL_CHECK(width > 0 && height > 0 && mask.size() == std::size_t(width) * height, "trace_outlines: mask of ",
           mask.size(), " values for ", width, " x ", height);
  static const int dx[8] = {-1, -1, 0, 1, 1, 1, 0, -1};  // clockwise from west (y down)
  static const int dy[8] = {0, -1, -1, -1, 0, 1, 1, 1};
  auto fg = [&](int x, int y) {
    return x >= 0 && y >= 0 && x < width && y < height && mask[std::size_t(y) * width + x] != 0;
  };
  std::vector<int> component(mask.size(), 0);
  std::vector<std::vector<Eigen::Vector2d>> out;
  int label = 0;
  for (int y0 = 0; y0 < height; ++y0)
    for (int x0 = 0; x0 < width; ++x0) {
      if (!fg(x0, y0) || component[std::size_t(y0) * width + x0]) continue;
      ++label;
      // Flood the 8-connected component so each is traced once.
      std::vector<std::pair<int, int>> stack{{x0, y0}};
      component[std::size_t(y0) * width + x0] = label;
      while (!stack.empty()) {
        auto [x, y] = stack.back();
        stack.pop_back();
        for (int d = 0; d < 8; ++d) {
          const int nx = x + dx[d], ny = y + dy[d];
          if (fg(nx, ny) && !component[std::size_t(ny) * width + nx]) {
            component[std::size_t(ny) * width + nx] = label;
            stack.emplace_back(nx, ny);
          }
        }
      }
      // Moore-neighbour tracing from the first pixel in raster order (its west neighbour is outside).
      std::vector<Eigen::Vector2d> outline{{double(x0), double(y0)}};
      int cx = x0, cy = y0, back = 0;  // back: direction from the current pixel to the last outside pixel
      const int start_back = 0;
      bool first_move = true;
      for (std::size_t guard = 0; guard < 8 * mask.size() + 8; ++guard) {
        int found = -1;
        for (int i = 1; i <= 8; ++i) {
          const int d = (back + i) % 8;
          if (fg(cx + dx[d], cy + dy[d])) {
            found = d;
            break;
          }
        }
        if (found < 0) break;  // a single pixel
        // The outside pixel checked just before `found`, seen from the new pixel.
        const int prev = (found + 7) % 8;
        const int bx = cx + dx[prev], by = cy + dy[prev];
        cx += dx[found];
        cy += dy[found];
        for (int d = 0; d < 8; ++d)
          if (cx + dx[d] == bx && cy + dy[d] == by) {
            back = d;
            break;
          }
        if (cx == x0 && cy == y0 && !first_move && back == start_back) break;
        if (cx == x0 && cy == y0) {
          // Back at the start: stop once the state repeats (Jacob's criterion approximated by the entry direction).
          bool again = false;
          for (int i = 1; i <= 8; ++i) {
            const int d = (back + i) % 8;
            if (fg(cx + dx[d], cy + dy[d])) {
              again = !(outline.size() > 1 && cx + dx[d] == int(outline[1].x()) && cy + dy[d] == int(outline[1].y()));
              break;
            }
          }
          if (!again) break;
        }
        first_move = false;
        outline.emplace_back(cx, cy);
      }
      out.push_back(std::move(outline));
    }
  return out;
}

namespace {
bool on_segment(const Eigen::Vector2d& p, const Eigen::Vector2d& a, const Eigen::Vector2d& b) {
  const Eigen::Vector2d ab = b - a, ap = p - a;
  const double cross = ab.x() * ap.y() - ab.y() * ap.x();
  if (std::abs(cross) > 1e-9 * std::max(1.0, ab.norm())) return false;
  const double t = ab.dot(ap);
  return t >= -1e-9 && t <= ab.squaredNorm() + 1e-9;
}
}  // namespace

bool outline_strictly_contains(const std::vector<Eigen::Vector2d>& poly, const Eigen::Vector2d& p) {
  const std::size_t n = poly.size();
  if (n < 3) return false;
  for (std::size_t i = 0, j = n - 1; i < n; j = i++)
    if (on_segment(p, poly[j], poly[i])) return false;
  return outline_contains(poly, p);
}

std::vector<std::vector<Eigen::Vector2d>> outside_outlines(const std::vector<std::uint8_t>& mask, int width,
                                                           int height) {
  XL_CHECK(width > 0 && height > 0 && mask.size() == std::size_t(width) * height, "outside_outlines: mask of ",
           mask.size(), " values for ", width, " x ", height);
  // Grown by one pixel on a canvas one pixel larger on every side, so a region touching the border still gets
  // an outline outside it; points are shifted back (they may lie at -1 or width/height).
  const int w = width + 2, h = height + 2;
  std::vector<std::uint8_t> grown(std::size_t(w) * h, 0);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      if (!mask[std::size_t(y) * width + x]) continue;
      for (int dy = 0; dy <= 2; ++dy)
        for (int dx = 0; dx <= 2; ++dx) grown[std::size_t(y + dy) * w + (x + dx)] = 1;
    }
  auto in_grown = [&](int x, int y) {
    return x >= 0 && y >= 0 && x < w && y < h && grown[std::size_t(y) * w + x] != 0;
  };
  std::vector<std::vector<Eigen::Vector2d>> out;
  for (const auto& traced : trace_outlines(grown, w, h)) {
    // Moore tracing steps diagonally past an inner corner, leaving the corner pixel (grown, so outside the
    // region) strictly inside the outline; put it on the outline so that only the region is inside.
    std::vector<Eigen::Vector2d> o;
    for (std::size_t i = 0; i < traced.size(); ++i) {
      const Eigen::Vector2d& a = traced[i];
      const Eigen::Vector2d& b = traced[(i + 1) % traced.size()];
      o.push_back(a);
      if (traced.size() > 1 && std::abs(a.x() - b.x()) == 1 && std::abs(a.y() - b.y()) == 1) {
        const Eigen::Vector2d c1(a.x(), b.y()), c2(b.x(), a.y());
        if (in_grown(int(c1.x()), int(c1.y())))
          o.push_back(c1);
        else if (in_grown(int(c2.x()), int(c2.y())))
          o.push_back(c2);
      }
    }
    for (auto& p : o) p -= Eigen::Vector2d(1, 1);
    out.push_back(std::move(o));
  }
  return out;
}

bool outline_contains(const std::vector<Eigen::Vector2d>& poly, const Eigen::Vector2d& p) {
  const std::size_t n = poly.size();
  if (n == 0) return false;
  if (n == 1) return (p - poly[0]).norm() < 1e-9;
  bool inside = false;
  for (std::size_t i = 0, j = n - 1; i < n; j = i++) {
    if (on_segment(p, poly[j], poly[i])) return true;
    const auto& a = poly[i];
    const auto& b = poly[j];
    if ((a.y() > p.y()) != (b.y() > p.y()) && p.x() < (b.x() - a.x()) * (p.y() - a.y()) / (b.y() - a.y()) + a.x())
      inside = !inside;
  }
  return n >= 3 && inside;
}

}  // namespace xraylift::data
