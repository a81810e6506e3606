#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "xraylift/core/error.hpp"
#include "xraylift/data/contour.hpp"

using namespace xraylift;

namespace {
// The mask with its holes filled (background not reachable from the border becomes foreground).
std::vector<std::uint8_t> fill_holes(const std::vector<std::uint8_t>& m, int w, int h) {
  std::vector<std::uint8_t> outside(m.size(), 0);
  std::vector<std::pair<int, int>> st;
  for (int x = 0; x < w; ++x) st.insert(st.end(), {{x, 0}, {x, h - 1}});
  for (int y = 0; y < h; ++y) st.insert(st.end(), {{0, y}, {w - 1, y}});
  while (!st.empty()) {
    auto [x, y] = st.back();
    st.pop_back();
    if (x < 0 || y < 0 || x >= w || y >= h) continue;
    const std::size_t i = std::size_t(y) * w + x;
    if (m[i] || outside[i]) continue;
    outside[i] = 1;
    st.insert(st.end(), {{x + 1, y}, {x - 1, y}, {x, y + 1}, {x, y - 1}});
  }
  std::vector<std::uint8_t> f(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) f[i] = !outside[i];
  return f;
}
}  // namespace

TEST(Contour, FillingTheOutlinesGivesTheMaskBack) {
  std::mt19937 rng(5);
  const int w = 40, h = 36;
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::uint8_t> m(std::size_t(w) * h, 0);
    std::uniform_real_distribution<double> ux(3, w - 4), uy(3, h - 4), ur(0.4, 6);
    const int blobs = 1 + trial % 4;
    for (int b = 0; b < blobs; ++b) {
      const double cx = ux(rng), cy = uy(rng), rx = ur(rng), ry = ur(rng);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          if ((x - cx) * (x - cx) / (rx * rx) + (y - cy) * (y - cy) / (ry * ry) <= 1) m[std::size_t(y) * w + x] = 1;
    }
    const auto outlines = data::trace_outlines(m, w, h);
    std::vector<std::uint8_t> filled(m.size(), 0);
    for (const auto& o : outlines)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          if (data::outline_contains(o, Eigen::Vector2d(x, y))) filled[std::size_t(y) * w + x] = 1;
    ASSERT_EQ(filled, fill_holes(m, w, h)) << "trial " << trial;
    for (const auto& o : outlines)
      for (const auto& p : o) ASSERT_TRUE(m[std::size_t(p.y()) * w + std::size_t(p.x())]);  // outline pixels are inside
  }
}

TEST(Contour, SinglePixelAndSquare) {
  std::vector<std::uint8_t> m(25, 0);
  m[12] = 1;
  auto o = data::trace_outlines(m, 5, 5);
  ASSERT_EQ(o.size(), 1u);
  ASSERT_EQ(o[0].size(), 1u);
  EXPECT_EQ(o[0][0], Eigen::Vector2d(2, 2));
  for (int y = 1; y <= 3; ++y)
    for (int x = 1; x <= 3; ++x) m[y * 5 + x] = 1;
  o = data::trace_outlines(m, 5, 5);
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(o[0].size(), 8u);  // the 8 boundary pixels of a 3 x 3 square, each once
  EXPECT_THROW(data::trace_outlines(m, 4, 5), core::InputError);
}

// LIDC's convention: the outline runs through the pixels just outside the nodule and the nodule is what lies
// strictly inside. outside_outlines writes blobs that way; reading them back gives the blob exactly.
TEST(Contour, OutsideOutlinesReadBackStrictlyInsideAsTheBlob) {
  std::mt19937 rng(7);
  const int w = 40, h = 36;
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::uint8_t> m(std::size_t(w) * h, 0);
    std::uniform_real_distribution<double> ux(0, w - 1), uy(0, h - 1), ur(0.6, 7);
    const double cx = ux(rng), cy = uy(rng), rx = ur(rng), ry = ur(rng);  // may touch the border
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        if ((x - cx) * (x - cx) / (rx * rx) + (y - cy) * (y - cy) / (ry * ry) <= 1) m[std::size_t(y) * w + x] = 1;
    if (std::find(m.begin(), m.end(), 1) == m.end()) continue;
    const auto outlines = data::outside_outlines(m, w, h);
    ASSERT_EQ(outlines.size(), 1u) << "trial " << trial;
    std::vector<std::uint8_t> read(m.size(), 0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        if (data::outline_strictly_contains(outlines[0], Eigen::Vector2d(x, y))) read[std::size_t(y) * w + x] = 1;
    ASSERT_EQ(read, m) << "trial " << trial;
    for (const auto& p : outlines[0]) {  // every outline point lies outside the blob
      const bool inside_image = p.x() >= 0 && p.y() >= 0 && p.x() < w && p.y() < h;
      if (inside_image) ASSERT_FALSE(m[std::size_t(p.y()) * w + std::size_t(p.x())]) << "trial " << trial;
    }
  }
}

TEST(Contour, StrictlyInsideExcludesTheOutline) {
  const std::vector<Eigen::Vector2d> square{{0, 0}, {4, 0}, {4, 4}, {0, 4}};
  EXPECT_TRUE(data::outline_strictly_contains(square, {2, 2}));
  EXPECT_FALSE(data::outline_strictly_contains(square, {0, 2}));  // on an edge
  EXPECT_FALSE(data::outline_strictly_contains(square, {4, 4}));  // a vertex
  EXPECT_TRUE(data::outline_contains(square, {4, 4}));
  EXPECT_FALSE(data::outline_strictly_contains({{3, 3}}, {3, 3}));  // a point mark has no inside
  EXPECT_FALSE(data::outline_strictly_contains({{1, 1}, {5, 1}}, {3, 1}));
}
