#include "xraylift/eval/box_set2d.hpp"

#include <gtest/gtest.h>

#include "xraylift/core/error.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;

namespace {

std::string error_of(const std::string& text) {
  try {
    eval::parse_box_set2d(text, "f.json");
  } catch (const core::InputError& e) {
    return e.what();
  }
  return "";
}

const char* kHeader = R"("format": "xraylift.boxes2d", "version": 1, "units": "px", )";

std::string doc(const std::string& source, const std::string& images) {
  return std::string("{") + kHeader + "\"source\": \"" + source + "\", \"images\": [" + images + "]}";
}

}  // namespace

TEST(BoxSet2D, RoundTripsThroughAFile) {
  eval::BoxSet2D set;
  set.source = core::BoxSource::kPrediction;
  set.images.push_back(
      {"c1/view00", "c1", "view00", 1024, 1024, {{core::Box2D{1.5, 2, 10, 12.25}, 0.75, "nodule", "a", false}}});
  set.images.push_back({"c1/view01", "", "", 0, 0, {}});
  const auto path = xraylift::testing::scratch_dir("box_set2d") / "pred.json";
  eval::write_box_set2d(path, set);
  const auto back = eval::read_box_set2d(path);
  ASSERT_EQ(back.images.size(), 2u);
  EXPECT_EQ(back.source, core::BoxSource::kPrediction);
  EXPECT_EQ(back.images[0].view, "view00");
  EXPECT_EQ(back.images[0].width, 1024);
  EXPECT_DOUBLE_EQ(back.images[0].boxes[0].box.y1, 12.25);
  EXPECT_DOUBLE_EQ(back.images[0].boxes[0].score, 0.75);
  EXPECT_EQ(back.box_count(), 1u);
}

TEST(BoxSet2D, ErrorsNameFileAndEntry) {
  EXPECT_NE(error_of("{\"format\": ").find("f.json: malformed JSON"), std::string::npos);
  // Found by fuzzing: a 'format' of another type was a json type_error.
  EXPECT_NE(error_of(R"({"format": [], "version": 1, "source": "truth", "images": []})").find("f.json.format = []"),
            std::string::npos);
  EXPECT_NE(error_of(doc("prediction", R"({"image_id": "a", "boxes": [{"bbox_xyxy": [0, 0, 1, 1]}]})"))
                .find("f.json: images[0] (a).boxes[0]: missing 'score'"),
            std::string::npos);
  EXPECT_NE(error_of(doc("prediction", R"({"image_id": "a", "boxes": [{"bbox_xyxy": [0, 0, 1, 1], "score": 2}]})"))
                .find("images[0] (a).boxes[0].score = 2"),
            std::string::npos);
  EXPECT_NE(error_of(doc("truth", R"({"image_id": "a", "boxes": [{"bbox_xyxy": [5, 0, 1, 1]}]})")).find("x0 <= x1"),
            std::string::npos);
  EXPECT_NE(error_of(doc("truth", R"({"image_id": "a", "boxes": [{"bbox_xyxy": [0, 0, 1e999, 1]}]})"))
                .find("f.json: malformed JSON"),
            std::string::npos);
  EXPECT_NE(error_of(doc("truth", R"({"image_id": "a", "boxes": [{"bbox_xyxy": [0, 0, 1]}]})")).find("bbox_xyxy"),
            std::string::npos);
  EXPECT_NE(error_of(doc("truth", R"({"image_id": "a"}, {"image_id": "a"})")).find("appears twice"), std::string::npos);
  EXPECT_NE(error_of(doc("truth", R"({"image_id": "a", "colour": 1})")).find("unknown field 'colour'"),
            std::string::npos);
  EXPECT_NE(error_of(doc("prediction",
                         R"({"image_id": "a", "boxes": [{"bbox_xyxy": [0, 0, 1, 1], "score": 1, "ignore": true}]})"))
                .find("only truth boxes"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"format": "other", "version": 1})").find("expected \"xraylift.boxes2d\""), std::string::npos);
}

TEST(BoxSet2D, EvaluatesOverallAndPerView) {
  const auto truth = eval::parse_box_set2d(
      doc("truth", R"({"image_id": "c/v0", "view": "v0", "boxes": [{"bbox_xyxy": [0, 0, 10, 10]}]},
                      {"image_id": "c/v1", "view": "v1", "boxes": [{"bbox_xyxy": [0, 0, 10, 10]}]})"),
      "t.json");
  const auto pred = eval::parse_box_set2d(
      doc("prediction", R"({"image_id": "c/v0", "boxes": [{"bbox_xyxy": [0, 0, 10, 10], "score": 0.9}]})"), "p.json");
  const auto groups = eval::evaluate_views(truth, "t.json", pred, "p.json");
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_DOUBLE_EQ(groups.at("view v0").ap50, 1.0);
  EXPECT_DOUBLE_EQ(groups.at("view v1").ap50, 0.0);
  EXPECT_NEAR(groups.at("all").ap50, 51.0 / 101, 1e-12);
  const auto stranger = eval::parse_box_set2d(doc("prediction", R"({"image_id": "zz"})"), "p.json");
  try {
    eval::evaluate_views(truth, "t.json", stranger, "p.json");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("p.json: images[0]: image_id 'zz' is not in the truth file t.json"),
              std::string::npos);
  }
}
