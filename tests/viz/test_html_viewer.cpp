// Opens the self-contained HTML viewer in headless Chromium (one run): the page must log its "rendered" line,
// log nothing else to the console (except SwiftShader's GL performance notices) and paint lung-coloured pixels;
// the self-test clicks a nodule and moves the evidence threshold slider.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "scene_fixture.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/testing/testing.hpp"
#include "xraylift/viz/export.hpp"

using namespace xraylift;
namespace fs = std::filesystem;

namespace {

std::string find_chromium() {
  if (const char* env = std::getenv("XRAYLIFT_CHROMIUM")) return env;
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (fs::exists(p)) return p;
  return "";
}

// The same behaviours (render, pick, evidence slider, screenshot colours) for either renderer.
void check_viewer_in_chromium(viz::HtmlViewer viewer, const std::string& tag) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium not installed: skipped";
  if (viewer == viz::HtmlViewer::kThree && !fs::exists(viz::three_js_path()))
    GTEST_SKIP() << viz::three_js_path() << " absent (libjs-three): skipped";
  const fs::path dir = xraylift::testing::scratch_dir("viz_html_" + tag);
  const fs::path page = dir / "scene.html", shot = dir / "shot.png", log = dir / "chromium.log";
  viz::write_html(page, viz::testing::fixture_scene_with_evidence(), "test scene", viewer);
  std::string html = core::read_file(page);
  if (viewer == viz::HtmlViewer::kThree) {
    // three.min.js holds URL strings (XML namespaces, its licence); the page around it must hold none.
    const std::string lib = core::read_file(viz::three_js_path());
    const auto at = html.find(lib);
    ASSERT_NE(at, std::string::npos) << "three.js not inlined verbatim";
    html.erase(at, lib.size());
  }
  EXPECT_EQ(html.find("http://"), std::string::npos);  // self-contained: no network references
  EXPECT_EQ(html.find("https://"), std::string::npos);
  const std::string cmd = "timeout 60 '" + chromium +
                          "' --headless --no-sandbox --disable-gpu --use-angle=swiftshader --enable-unsafe-swiftshader"
                          " --no-first-run --user-data-dir='" +
                          (dir / "profile").string() +
                          "' --enable-logging=stderr --v=0 --window-size=640,480 --screenshot='" + shot.string() +
                          "' 'file://" + page.string() + "#selftest' > '" + log.string() + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  ASSERT_EQ(rc, 0) << cmd << "\n" << core::read_file(log);
  std::istringstream lines(core::read_file(log));
  std::string line;
  bool rendered = false, picked = false, thresholded = false;
  while (std::getline(lines, line)) {
    if (line.find("CONSOLE") == std::string::npos) continue;
    if (line.find("XRAYLIFT_VIEWER_OK") != std::string::npos) {
      rendered = true;
      // The three page names its library: catches a three page that silently fell back to something else.
      if (viewer == viz::HtmlViewer::kThree) EXPECT_NE(line.find(" three r"), std::string::npos) << line;
    } else if (line.find("XRAYLIFT_PICK") != std::string::npos) {
      // Clicking the first nodule selects a nodule and fills the 6-line info panel (name, source, score, ...).
      picked = line.find("XRAYLIFT_PICK nodule_") != std::string::npos && line.find(" info 6") != std::string::npos;
      EXPECT_TRUE(picked) << line;
    } else if (line.find("XRAYLIFT_EVIDENCE") != std::string::npos) {
      // The evidence slider at 0.5 hides the 0.35 peak and keeps the 0.9 one (catches a slider that does nothing
      // or hides by the wrong value).
      thresholded = line.find("XRAYLIFT_EVIDENCE shown=1 of 2 at 0.50") != std::string::npos;
      EXPECT_TRUE(thresholded) << line;
    } else {
      EXPECT_NE(line.find("GL Driver Message"), std::string::npos) << "console: " << line;
    }
  }
  EXPECT_TRUE(rendered) << core::read_file(log);
  EXPECT_TRUE(picked) << core::read_file(log);
  EXPECT_TRUE(thresholded) << core::read_file(log);
  const cv::Mat img = cv::imread(shot.string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty()) << "no screenshot at " << shot;
  // Lung shell: pinkish (R clearly above G and B) over the dark background.
  int lung = 0;
  for (int r = 0; r < img.rows; ++r)
    for (int c = 0; c < img.cols; ++c) {
      const cv::Vec3b p = img.at<cv::Vec3b>(r, c);  // BGR
      if (p[2] > 80 && p[2] > p[1] + 15 && p[2] > p[0] + 10) ++lung;
    }
  EXPECT_GT(lung, img.rows * img.cols / 20) << "lung-coloured pixels: " << lung;
}

}  // namespace

TEST(HtmlViewer, RendersLungsInHeadlessChromiumWithoutConsoleErrors) {
  check_viewer_in_chromium(viz::HtmlViewer::kWebGL, "webgl");
}

TEST(HtmlViewer, ThreeJsVariantPassesTheSameChromiumChecks) {
  check_viewer_in_chromium(viz::HtmlViewer::kThree, "three");
}

TEST(HtmlViewer, ThreeJsVariantIsSelfContainedWithTheLibraryInlined) {
  if (!fs::exists(viz::three_js_path())) GTEST_SKIP() << viz::three_js_path() << " absent: skipped";
  const fs::path page = xraylift::testing::scratch_dir("viz_html_three_file") / "scene.html";
  viz::write_html(page, viz::testing::fixture_scene_with_evidence(), "t", viz::HtmlViewer::kThree);
  const std::string html = core::read_file(page);
  // Catches a page that references three.js instead of inlining it (it would not open offline).
  EXPECT_NE(html.find("REVISION"), std::string::npos);
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  EXPECT_EQ(html.find("@DATA@"), std::string::npos);  // every marker substituted
  EXPECT_EQ(html.find("@OPACITY@"), std::string::npos);
}

TEST(HtmlViewer, ThreeJsMissingLibraryIsAConfigErrorNamingThePath) {
  // Catches a viewer that writes a page without its renderer (blank in the browser) when libjs-three is absent.
  ::setenv("XRAYLIFT_THREE_JS", "/nonexistent/three.min.js", 1);
  const fs::path page = xraylift::testing::scratch_dir("viz_html_three_missing") / "scene.html";
  try {
    viz::write_html(page, viz::testing::fixture_scene_with_evidence(), "t", viz::HtmlViewer::kThree);
    ADD_FAILURE() << "no error";
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/three.min.js"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("libjs-three"), std::string::npos) << e.what();
  }
  ::unsetenv("XRAYLIFT_THREE_JS");
  EXPECT_FALSE(fs::exists(page));
  EXPECT_THROW(viz::parse_html_viewer("vtk"), core::ConfigError);
  EXPECT_EQ(viz::parse_html_viewer("three"), viz::HtmlViewer::kThree);
}
