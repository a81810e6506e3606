#include <gtest/gtest.h>

#include <limits>

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

// Catches camera errors that lose their file: a non-orthonormal world2cam in an infos.json was reported as
// "camera 'view0': rotation is not orthonormal" without saying which view set (issue 23); absurd image sizes
// are refused before an image of that size is ever allocated.
TEST(ViewSet, CameraErrorsNameTheInfosFile) {
  const auto dir = xraylift::testing::scratch_dir("view_set_camera");
  ViewSet set;
  set.case_id = "c";
  ViewRecord v;
  v.camera = Rig::ring(RingSpec{})[0];
  set.views.push_back(v);
  nlohmann::json doc = to_json(set);
  doc["cams"][0]["world2cam"][0][0] = 2.0;  // a scaled rotation
  write_file_atomic(dir / "infos.json", doc.dump());
  try {
    read_view_set(dir / "infos.json");
    ADD_FAILURE() << "a scaled rotation was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("infos.json: cams[0]: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not orthonormal"), std::string::npos) << e.what();
  }
  doc = to_json(set);
  doc["cams"][0]["width"] = 100000000;
  write_file_atomic(dir / "huge.json", doc.dump());
  try {
    read_view_set(dir / "huge.json");
    ADD_FAILURE() << "a 100000000 px wide view was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("huge.json: cams[0]: image size 100000000 x"), std::string::npos) << e.what();
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

namespace {
// A .npy file with a hand-written header (what a hostile or broken writer may produce) and `payload` data bytes.
std::string npy_with_header(const std::string& header, std::size_t payload) {
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes.push_back(static_cast<char>(header.size() & 0xff));
  bytes.push_back(static_cast<char>(header.size() >> 8));
  return bytes + header + std::string(payload, '\0');
}

std::string npy_error(const std::filesystem::path& file) {
  try {
    read_npy(file);
  } catch (const InputError& e) {
    return e.what();
  }
  return "<accepted>";
}
}  // namespace

// Catches a reader that trusts the declared shape: a shape beyond int64 ended in std::stoll ("stoll", exit 1), a
// huge one in the allocator (issue 23). Each is refused naming the file and the limit or the byte count.
TEST(Npy, DeclaredShapeIsCheckedAgainstLimitAndFileBytesFirst) {
  const auto dir = xraylift::testing::scratch_dir("npy_sizes");
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  write_file_atomic(dir / "overflow.npy", npy_with_header(dict + "99999999999999999999999, 2), }\n", 16));
  EXPECT_NE(npy_error(dir / "overflow.npy").find("overflow.npy': shape entry '99999999999999999999999'"),
            std::string::npos)
      << npy_error(dir / "overflow.npy");
  write_file_atomic(dir / "product.npy", npy_with_header(dict + "100000, 100000, 100000), }\n", 16));
  EXPECT_NE(npy_error(dir / "product.npy").find("the reader's limit"), std::string::npos)
      << npy_error(dir / "product.npy");
  write_file_atomic(dir / "bytes.npy", npy_with_header(dict + "1000, 1000), }\n", 16));
  EXPECT_NE(npy_error(dir / "bytes.npy").find("needs 4000000 data bytes, the file holds 16"), std::string::npos)
      << npy_error(dir / "bytes.npy");
  // An empty array reads as one (found by fuzz_npy: the copy into its null buffer was undefined behaviour).
  write_file_atomic(dir / "empty.npy", npy_with_header(dict + "0, 3), }\n", 16));
  const NpyArray empty = read_npy(dir / "empty.npy");
  EXPECT_EQ(empty.shape, (std::vector<std::int64_t>{0, 3}));
  EXPECT_TRUE(empty.data.empty());
}

// Catches a shape parser that recurses per character: libstdc++'s std::regex (what read_npy used) overflowed the
// stack on a header of ~60000 shape characters (GCC bug 86164; the process died with SIGSEGV instead of reading
// the file). The hand-written scan reads it, and still takes the first well-formed 'shape' entry.
TEST(Npy, LongShapeHeaderIsScannedWithoutRecursion) {
  const auto dir = xraylift::testing::scratch_dir("npy_long_shape");
  std::string ones;
  for (int i = 0; i < 20000; ++i) ones += "1, ";
  const std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + ones + "2), }\n";
  ASSERT_LT(header.size(), 65536u);  // a version 1 header
  write_file_atomic(dir / "long.npy", npy_with_header(header, 8));
  const NpyArray a = read_npy(dir / "long.npy");
  EXPECT_EQ(a.shape.size(), 20001u);
  EXPECT_EQ(a.data.size(), 2u);
  // A malformed first 'shape' (a letter inside) is skipped for a later well-formed one, as the regex did.
  write_file_atomic(dir / "second.npy", npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2x), "
                                                        "'shape': (3,), }\n",
                                                        12));
  EXPECT_EQ(read_npy(dir / "second.npy").shape, (std::vector<std::int64_t>{3}));
  write_file_atomic(dir / "none.npy", npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, }\n", 8));
  EXPECT_NE(npy_error(dir / "none.npy").find("none.npy': no shape in header"), std::string::npos)
      << npy_error(dir / "none.npy");
}

// Catches a view-set image reader that passes NaN/Inf line integrals on (predict once returned 50 boxes for them).
TEST(Npy, LineIntegralsMustBeFiniteAndMatchTheCamera) {
  const auto dir = xraylift::testing::scratch_dir("npy_line_integrals");
  std::vector<float> values = {0.f, 1.f, 2.f, 3.f, 4.f, 5.f};
  write_npy(dir / "ok.npy", values.data(), {2, 3});
  EXPECT_EQ(read_line_integrals(dir / "ok.npy", 2, 3).data, values);
  EXPECT_THROW(read_line_integrals(dir / "ok.npy", 3, 2), InputError);
  values[4] = std::numeric_limits<float>::quiet_NaN();
  write_npy(dir / "nan.npy", values.data(), {2, 3});
  try {
    read_line_integrals(dir / "nan.npy", 2, 3);
    ADD_FAILURE() << "NaN accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nan.npy: line integral at row 1, column 1 = nan"), std::string::npos)
        << e.what();
  }
  values[4] = std::numeric_limits<float>::infinity();
  write_npy(dir / "inf.npy", values.data(), {2, 3});
  EXPECT_THROW(read_line_integrals(dir / "inf.npy", 2, 3), InputError);
}
