#include <gtest/gtest.h>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/npy.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift::core;

TEST(ViewSet, RoundTripKeepsCamerasAndBoxes) {
  const Rig rig = Rig::ring(RingSpec{});
  ViewSet set;
  set.case_id = "phantom-0001";
  BoxRecord n;
  n.box = Box3D{{40, 10, -20}, {9, 8, 10}};
  n.id = "n1";
  set.boxes_3d.push_back(n);
  BoxRecord mark;  // a sub-3 mm point mark: an ignore region in every view
  mark.box = Box3D{{-30, 0, 10}, {10, 10, 10}};
  mark.id = "p1";
  mark.ignore = true;
  mark.sized = false;
  set.boxes_3d.push_back(mark);
  for (const auto& cam : rig) {
    ViewRecord v;
    v.camera = cam;
    v.image_path = cam.name() + ".png";
    v.boxes = ground_truth_boxes_2d(cam, set.boxes_3d);
    set.views.push_back(v);
  }
  const auto path = xraylift::testing::scratch_dir("view_set") / "infos.json";
  write_view_set(path, set);
  const ViewSet back = read_view_set(path);
  ASSERT_EQ(back.views.size(), 10u);
  ASSERT_EQ(back.boxes_3d.size(), 2u);
  EXPECT_TRUE(back.boxes_3d[1].ignore);
  EXPECT_FALSE(back.boxes_3d[1].sized);
  for (std::size_t i = 0; i < back.views.size(); ++i) {
    const Camera& a = rig[i];
    const Camera& b = back.views[i].camera;
    const Eigen::Vector3d p(12, -7, 33);
    EXPECT_NEAR((a.project(p) - b.project(p)).norm(), 0, 1e-9);
    ASSERT_EQ(back.views[i].boxes.size(), 2u);
    EXPECT_NEAR(back.views[i].boxes[0].projection.box.x0, set.views[i].boxes[0].projection.box.x0, 1e-9);
    EXPECT_EQ(back.views[i].boxes[0].nodule_id, "n1");
    EXPECT_FALSE(back.views[i].boxes[0].ignore);
    EXPECT_TRUE(set.views[i].boxes[1].ignore);  // ground_truth_boxes_2d keeps the 3D box's flag
    EXPECT_TRUE(back.views[i].boxes[1].ignore);
  }
}

TEST(ViewSet, BadFilesNameTheEntry) {
  const auto dir = xraylift::testing::scratch_dir("view_set_bad");
  // Found by fuzzing: fields of another type escaped as json type_errors.
  for (const char* doc : {R"({"format": {"a": 1}, "version": 1, "case_id": "c", "cams": []})",
                          R"({"format": "xraylift.views", "version": 1, "case_id": "c", "cams": [{"name": 3}]})"}) {
    write_file_atomic(dir / "t.json", doc);
    EXPECT_THROW(read_view_set(dir / "t.json"), InputError) << doc;
  }
  write_file_atomic(dir / "a.json",
                    R"({"format": "xraylift.views", "version": 1, "case_id": "c", "cams": [{"width": 4}]})");
  try {
    read_view_set(dir / "a.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cams[0].cam_intrinsic"), std::string::npos) << e.what();
  }
}

TEST(Npy, RoundTripAndErrors) {
  const auto dir = xraylift::testing::scratch_dir("npy");
  std::vector<float> values(6);
  for (int i = 0; i < 6; ++i) values[i] = 0.5f * i;
  write_npy(dir / "a.npy", values.data(), {2, 3});
  const NpyArray a = read_npy(dir / "a.npy");
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(a.data, values);
  write_npy(dir / "b.npy", values.data(), {6});
  EXPECT_EQ(read_npy(dir / "b.npy").shape, (std::vector<std::int64_t>{6}));
  // Header is 64-byte aligned as numpy writes it.
  const std::string raw = read_file(dir / "a.npy");
  EXPECT_EQ((raw.size() - 6 * sizeof(float)) % 64, 0u);
  write_file_atomic(dir / "short.npy", raw.substr(0, raw.size() - 4));
  EXPECT_THROW(read_npy(dir / "short.npy"), InputError);
  write_file_atomic(dir / "junk.npy", "hello");
  EXPECT_THROW(read_npy(dir / "junk.npy"), InputError);
}
