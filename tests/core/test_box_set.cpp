#include <gtest/gtest.h>

#include "xraylift/core/box_set.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift::core;

namespace {
std::string error_of(const std::string& json) {
  try {
    parse_box_set(json, "pred.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no error>";
}
const char* kHeader = R"({"format": "xraylift.boxes3d", "version": 1, "source": "prediction", "cases": )";
}  // namespace

TEST(BoxSet, RoundTripThroughAFile) {
  BoxSet set;
  set.source = BoxSource::kPrediction;
  BoxRecord r;
  r.box = Box3D{{1.5, -2, 3}, {4, 5, 6}};
  r.score = 0.75;
  r.id = "n7";
  r.readers = 3;
  r.ignore = true;
  r.texture = "part-solid";
  set.case_for("case-a").boxes.push_back(r);
  BoxRecord point = r;
  point.sized = false;  // a point mark: no measured size
  set.case_for("case-a").boxes.push_back(point);
  set.case_for("case-b");  // a case with no boxes is kept (empty predictions differ from a missing case)
  const auto path = xraylift::testing::scratch_dir("box_set") / "boxes.json";
  write_box_set(path, set);
  const BoxSet back = read_box_set(path);
  ASSERT_EQ(back.cases.size(), 2u);
  EXPECT_EQ(back.source, BoxSource::kPrediction);
  const auto& b = back.find("case-a")->boxes.at(0);
  EXPECT_NEAR((b.box.center - r.box.center).norm(), 0, 1e-12);
  EXPECT_NEAR((b.box.size - r.box.size).norm(), 0, 1e-12);
  EXPECT_EQ(b.id, "n7");
  EXPECT_EQ(b.readers, 3);
  EXPECT_TRUE(b.ignore);
  EXPECT_DOUBLE_EQ(b.score, 0.75);
  EXPECT_TRUE(b.sized);
  EXPECT_EQ(b.texture, "part-solid");
  EXPECT_FALSE(back.find("case-a")->boxes.at(1).sized);
  EXPECT_TRUE(back.find("case-b")->boxes.empty());
  EXPECT_EQ(back.find("case-c"), nullptr);
}

TEST(BoxSet, BadInputNamesFileAndEntry) {
  EXPECT_NE(error_of("{not json").find("pred.json: malformed JSON"), std::string::npos);
  // A number too large for a double is a JSON library range error: still an InputError naming the file.
  EXPECT_NE(error_of(std::string(kHeader) +
                     R"([{"case_id": "A", "boxes": [{"center_mm": [0,0,0], "size_mm": [1e999,1,1]}]}]})")
                .find("pred.json: malformed JSON"),
            std::string::npos);
  const std::string neg =
      error_of(std::string(kHeader) + R"([{"case_id": "A", "boxes": [{"center_mm": [0,0,0], "size_mm": [1,-2,1]}]}]})");
  EXPECT_NE(neg.find("cases[0] (A).boxes[0].size_mm[1] = -2"), std::string::npos) << neg;
  const std::string score =
      error_of(std::string(kHeader) +
               R"([{"case_id": "A", "boxes": [{"center_mm": [0,0,0], "size_mm": [1,1,1], "score": 1.5}]}]})");
  EXPECT_NE(score.find("score = 1.5"), std::string::npos) << score;
  const std::string nan = error_of(std::string(kHeader) +
                                   R"([{"case_id": "A", "boxes": [{"center_mm": [0,0,"x"], "size_mm": [1,1,1]}]}]})");
  EXPECT_NE(nan.find("center_mm[2]"), std::string::npos) << nan;
  EXPECT_NE(error_of(std::string(kHeader) + R"([{"case_id": "A"}, {"case_id": "A"}]})").find("twice"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"format": "other", "version": 1, "cases": []})").find("xraylift.boxes3d"), std::string::npos);
  // Found by fuzzing: a field of another type was a json type_error, not an InputError naming the field.
  EXPECT_NE(error_of(R"({"format": [1], "version": 1, "cases": []})").find("pred.json.format = [1], expected text"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"format": "xraylift.boxes3d", "version": "1", "cases": []})").find(".version"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kHeader) +
                     R"([{"case_id": "A", "boxes": [{"center_mm": [0,0,0], "size_mm": [1,1,1], "colour": 1}]}]})")
                .find("unknown field 'colour'"),
            std::string::npos);
}

TEST(BoxSet, TextureIsOneOfThreeClassesOrAbsent) {
  const std::string bad =
      error_of(std::string(kHeader) +
               R"([{"case_id": "A", "boxes": [{"center_mm": [0,0,0], "size_mm": [1,1,1], "texture": "glassy"}]}]})");
  EXPECT_NE(bad.find("cases[0] (A).boxes[0].texture = \"glassy\", expected \"solid\", \"part-solid\" or"),
            std::string::npos)
      << bad;
  EXPECT_NE(error_of(std::string(kHeader) +
                     R"([{"case_id": "A", "boxes": [{"center_mm": [0,0,0], "size_mm": [1,1,1], "texture": 3}]}]})")
                .find(".texture = 3"),
            std::string::npos);
  const BoxSet ok = parse_box_set(
      std::string(kHeader) +
          R"([{"case_id": "A", "boxes": [{"center_mm": [0,0,0], "size_mm": [1,1,1], "texture": "ground-glass"},
                                          {"center_mm": [5,0,0], "size_mm": [1,1,1]}]}]})",
      "pred.json");
  EXPECT_EQ(ok.cases[0].boxes[0].texture, "ground-glass");
  EXPECT_EQ(ok.cases[0].boxes[1].texture, "");
  // An unknown texture is written as no field at all (the file stays readable by older readers).
  EXPECT_EQ(to_json(ok).find("\"texture\": \"\""), std::string::npos);
}

TEST(TruthFilter, TexturesNotListedBecomeIgnoreRegionsUnknownOnesCount) {
  BoxRecord solid, glass, unknown;
  solid.box = glass.box = unknown.box = Box3D{{0, 0, 0}, {8, 8, 8}};
  solid.texture = "solid";
  glass.texture = "ground-glass";
  TruthFilter f;
  EXPECT_TRUE(f.passes(glass));  // no list: every texture counts
  f.textures = {"solid", "part-solid"};
  EXPECT_TRUE(f.passes(solid));
  EXPECT_FALSE(f.passes(glass));
  EXPECT_TRUE(f.passes(unknown));  // like an unknown reader count: kept
  std::vector<BoxRecord> truths = {solid, glass, unknown};
  apply_truth_filter(truths, f);
  EXPECT_FALSE(truths[0].ignore);
  EXPECT_TRUE(truths[1].ignore);
  EXPECT_FALSE(truths[2].ignore);
  EXPECT_NO_THROW(f.validate("eval"));
  f.textures = {"solid", "semi-solid"};
  try {
    f.validate("config: truth");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("config: truth: textures lists 'semi-solid'"), std::string::npos) << e.what();
  }
}
