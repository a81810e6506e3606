#include <gtest/gtest.h>

#include <chrono>

#include "xraylift/data/dicom.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;

TEST(DicomReader, ReadsTheLidcSample) {
  XL_REQUIRE_LIDC_SAMPLE(dir);
  const auto t0 = std::chrono::steady_clock::now();
  const data::DicomSeries s = data::read_dicom_series(dir);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("read %zu slices in %.3f s\n", s.slices.size(), seconds);
  for (const auto& w : s.warnings) std::printf("warning: %s\n", w.c_str());
  EXPECT_EQ(s.hu.dims(), Eigen::Vector3i(512, 512, 133));
  EXPECT_NEAR(s.hu.spacing().x(), 0.703125, 1e-6);
  EXPECT_NEAR(s.hu.spacing().y(), 0.703125, 1e-6);
  EXPECT_NEAR(s.hu.spacing().z(), 2.5, 1e-6);
  EXPECT_TRUE(s.hu.geometry().axis_aligned());
  EXPECT_NEAR(s.hu.geometry().center_world().norm(), 0.0, 1e-9);
  ASSERT_EQ(s.slices.size(), 133u);
  EXPECT_NEAR(s.slices.front().z_mm, -340.0, 1e-3);
  EXPECT_NEAR(s.slices.back().z_mm, -10.0, 1e-3);
  EXPECT_NEAR(s.scanner_origin_offset_mm.z(), -175.0, 1e-3);
  for (std::size_t n = 1; n < s.slices.size(); ++n) EXPECT_LT(s.slices[n - 1].z_mm, s.slices[n].z_mm);
  EXPECT_FALSE(s.slices.front().sop_uid.empty());
  // HU: the padding (63536 stored) became air, nothing brighter than dense bone, air around -1000.
  int lo = 32767, hi = -32768;
  std::int64_t air = 0;
  for (std::int16_t v : s.hu.values()) {
    lo = std::min<int>(lo, v);
    hi = std::max<int>(hi, v);
    air += (v < -900);
  }
  EXPECT_GE(lo, -1024);
  EXPECT_LE(hi, 3500);
  EXPECT_GT(hi, 300);  // there is bone
  EXPECT_GT(double(air) / s.hu.size(), 0.2);
  // The corner voxels (outside the scan circle: padding) are air.
  EXPECT_LE(s.hu.at(0, 0, 0), -900);
  EXPECT_LE(s.hu.at(511, 511, 132), -900);
  // Mid-body voxel: soft tissue or bone, not air (patient is centred in the field of view).
  const auto c = s.hu.world_to_index(Eigen::Vector3d(0, 60, 0) - Eigen::Vector3d(0, 0, 0));
  EXPECT_GT(s.hu.at(int(c.x()), int(c.y()), int(c.z())), -300);
  // Asymmetric landmarks, so that a flipped or swapped axis fails. Middle slice: the couch lies behind the patient
  // (+y, posterior) and only air is in front of the chest (-y, anterior).
  {
    const int k = s.hu.dims().z() / 2;
    int behind = 0, in_front = 0;
    for (int j = 0; j < s.hu.dims().y(); ++j)
      for (int i = 0; i < s.hu.dims().x(); ++i) {
        const Eigen::Vector3d p = s.hu.index_to_world(Eigen::Vector3d(i, j, k));
        if (std::abs(p.x()) >= 100 || s.hu.at(i, j, k) <= -200) continue;
        behind += p.y() > 125 && p.y() < 160;
        in_front += p.y() < -125 && p.y() > -160;
      }
    EXPECT_GT(behind, 500);
    EXPECT_EQ(in_front, 0);
  }
  // The heart pulls the mediastinum's soft tissue toward the patient's left (+x) at z = +20 .. +80 mm (world).
  {
    double sum_x = 0, n = 0;
    for (int k = 0; k < s.hu.dims().z(); ++k)
      for (int j = 0; j < s.hu.dims().y(); ++j)
        for (int i = 0; i < s.hu.dims().x(); ++i) {
          const Eigen::Vector3d p = s.hu.index_to_world(Eigen::Vector3d(i, j, k));
          const int hu = s.hu.at(i, j, k);
          if (p.z() < 20 || p.z() >= 80 || p.y() < -70 || p.y() > 40 || std::abs(p.x()) > 110 || hu <= -150 ||
              hu >= 250)
            continue;
          sum_x += p.x();
          n += 1;
        }
    ASSERT_GT(n, 1e4);
    EXPECT_GT(sum_x / n, 10.0) << "soft-tissue centroid x " << sum_x / n
                               << " mm (measured +24.8: the heart is on the left)";
  }
  // World mapping of a pixel: the centre pixel of the middle slice is near the world origin.
  const Eigen::Vector3d p = data::dicom_pixel_to_world(s, 255.5, 255.5, s.scanner_origin_offset_mm.z());
  EXPECT_LT(p.norm(), 1e-6);
}

// ---- bad inputs: each gets a clear error or a warning naming the file ----
#include "dicom_test_util.hpp"
#include "xraylift/core/atomic_file.hpp"

namespace fs = std::filesystem;

namespace {
std::string error_of(const fs::path& dir, const data::DicomReadOptions& o = {}) {
  try {
    data::read_dicom_series(dir, o);
  } catch (const core::InputError& e) {
    return e.what();
  }
  return "(no error)";
}
bool any_warning(const data::DicomSeries& s, const std::string& a, const std::string& b) {
  for (const auto& w : s.warnings)
    if (w.find(a) != std::string::npos && w.find(b) != std::string::npos) return true;
  return false;
}
fs::path written_series(const std::string& name, std::uint64_t seed = 0) {
  const fs::path dir = xraylift::testing::scratch_dir(name) / "series";
  data::DicomWriteOptions o;
  o.uid_seed = seed;
  data::write_dicom_series(dir, testing_dicom::ramp_volume(), o);
  return dir;
}
}  // namespace

TEST(DicomReaderBadInput, EmptyFolderAndMissingFolder) {
  const fs::path dir = xraylift::testing::scratch_dir("dicom_empty");
  EXPECT_NE(error_of(dir).find("is empty"), std::string::npos) << error_of(dir);
  EXPECT_NE(error_of(dir / "nope").find("does not exist"), std::string::npos);
}

TEST(DicomReaderBadInput, NonDicomFilesOnly) {
  const fs::path dir = xraylift::testing::scratch_dir("dicom_non_dicom");
  core::write_file_atomic(dir / "notes.bin", "this is not DICOM at all");
  const std::string e = error_of(dir);
  EXPECT_NE(e.find("no readable DICOM"), std::string::npos) << e;
  EXPECT_NE(e.find("notes.bin"), std::string::npos) << e;
}

TEST(DicomReaderBadInput, TruncatedAndForeignFilesAreSkippedWithAWarning) {
  const fs::path dir = written_series("dicom_truncated");
  const fs::path victim = dir / "0004.dcm";
  const std::string bytes = core::read_file(victim);
  core::write_file_atomic(victim, bytes.substr(0, bytes.size() - 300));
  core::write_file_atomic(dir / "readme.bin", "hello");
  const auto s = data::read_dicom_series(dir);
  EXPECT_TRUE(any_warning(s, "0004.dcm", "skipped")) << ::testing::PrintToString(s.warnings);
  EXPECT_TRUE(any_warning(s, "readme.bin", "not readable as DICOM")) << ::testing::PrintToString(s.warnings);
  // The missing slice leaves a gap: resampled to the median spacing, and said so.
  EXPECT_TRUE(s.resampled);
  EXPECT_EQ(s.hu.dims().z(), 8);
  EXPECT_TRUE(any_warning(s, "non-uniform", "resampled"));
}

TEST(DicomReaderBadInput, TwoSeriesPickTheLargerOrTheOneAskedFor) {
  const fs::path a = written_series("dicom_two_series", 1);
  const fs::path other = xraylift::testing::scratch_dir("dicom_two_series_b") / "s";
  const auto small = testing_dicom::ramp_volume(24, 20, 4);
  data::DicomWriteOptions o;
  o.uid_seed = 2;
  o.description = "other";
  data::write_dicom_series(other, small, o);
  for (const auto& e : fs::directory_iterator(other))
    fs::copy_file(e.path(), a / ("b-" + e.path().filename().string()));
  const auto s = data::read_dicom_series(a);
  EXPECT_EQ(s.hu.dims().z(), 8);
  EXPECT_TRUE(any_warning(s, "ignored series", "4 files"));
  data::DicomReadOptions pick;
  pick.series_uid = data::read_dicom_series(other).series_uid;
  EXPECT_EQ(data::read_dicom_series(a, pick).hu.dims().z(), 4);
  pick.series_uid = "1.2.3";
  EXPECT_NE(error_of(a, pick).find("not in the folder"), std::string::npos);
}

TEST(DicomReaderBadInput, MissingPixelSpacingIsAnErrorNamingTheFile) {
  const fs::path dir = written_series("dicom_no_spacing");
  testing_dicom::edit_dicom(dir / "0003.dcm", [](DcmDataset& d) { d.findAndDeleteElement(DCM_PixelSpacing); });
  const std::string e = error_of(dir);
  EXPECT_NE(e.find("0003.dcm"), std::string::npos) << e;
  EXPECT_NE(e.find("PixelSpacing"), std::string::npos) << e;
}

TEST(DicomReaderBadInput, NonUniformSpacingResamplesOrRejects) {
  const fs::path dir = written_series("dicom_nonuniform");
  // Instance 1 is the top slice (z = +8.75); move it 2.5 mm further up: one gap of 5 mm.
  testing_dicom::edit_dicom(dir / "0001.dcm", [](DcmDataset& d) {
    Float64 z;
    d.findAndGetFloat64(DCM_ImagePositionPatient, z, 2);
    OFString x, y;
    d.findAndGetOFString(DCM_ImagePositionPatient, x, 0);
    d.findAndGetOFString(DCM_ImagePositionPatient, y, 1);
    d.putAndInsertString(DCM_ImagePositionPatient,
                         (std::string(x.c_str()) + "\\" + y.c_str() + "\\" + std::to_string(z + 2.5)).c_str());
  });
  const auto s = data::read_dicom_series(dir);
  EXPECT_TRUE(s.resampled);
  EXPECT_EQ(s.hu.dims().z(), 9);
  EXPECT_NEAR(s.hu.spacing().z(), 2.5, 1e-6);
  EXPECT_TRUE(any_warning(s, "non-uniform", "0001.dcm"));
  // Resampled slice between the last two originals is their average (linear interpolation).
  const auto v = testing_dicom::ramp_volume();
  EXPECT_EQ(s.hu.at(3, 4, 8), v.at(3, 4, 7));
  EXPECT_NEAR(s.hu.at(3, 4, 7), 0.5 * (v.at(3, 4, 6) + v.at(3, 4, 7)), 1.0);
  data::DicomReadOptions strict;
  strict.resample_nonuniform = false;
  EXPECT_NE(error_of(dir, strict).find("non-uniform slice spacing"), std::string::npos);
}

TEST(DicomReaderBadInput, DuplicateSlicesKeepOne) {
  const fs::path dir = written_series("dicom_duplicate");
  fs::copy_file(dir / "0005.dcm", dir / "0005-copy.dcm");
  const auto s = data::read_dicom_series(dir);
  EXPECT_EQ(s.hu.dims().z(), 8);
  EXPECT_TRUE(any_warning(s, "duplicate slice position", "0005"));
}

TEST(DicomReaderBadInput, PaddingValueBecomesAir) {
  const fs::path dir = written_series("dicom_padding");
  // Stored 63536 (the sample's padding, -2000 as int16) in one pixel of every file, declared as US padding.
  for (const auto& e : fs::directory_iterator(dir))
    testing_dicom::edit_dicom(e.path(), [](DcmDataset& d) {
      const Uint16* px = nullptr;
      unsigned long n = 0;
      d.findAndGetUint16Array(DCM_PixelData, px, &n);
      std::vector<Uint16> copy(px, px + n);
      copy[0] = 63536;
      d.putAndInsertUint16Array(DCM_PixelData, copy.data(), n);
      d.putAndInsertUint16(DCM_PixelPaddingValue, 63536);
    });
  const auto s = data::read_dicom_series(dir);
  for (int k = 0; k < s.hu.dims().z(); ++k) EXPECT_EQ(s.hu.at(0, 0, k), -1000);
  EXPECT_EQ(s.hu.at(1, 0, 0), testing_dicom::ramp_volume().at(1, 0, 0));
}

TEST(DicomReaderBadInput, FlippedOrientationIsReoriented) {
  const fs::path dir = written_series("dicom_flipped");
  // Declare rows running toward -y: same pixels, so the volume must come back mirrored in y.
  const auto v = testing_dicom::ramp_volume();
  for (const auto& e : fs::directory_iterator(dir))
    testing_dicom::edit_dicom(
        e.path(), [](DcmDataset& d) { d.putAndInsertString(DCM_ImageOrientationPatient, "1\\0\\0\\0\\-1\\0"); });
  const auto s = data::read_dicom_series(dir);
  ASSERT_EQ(s.hu.dims(), v.dims());
  EXPECT_EQ(s.hu.at(2, 0, 3), v.at(2, 19, 3));
  EXPECT_EQ(s.hu.at(2, 19, 3), v.at(2, 0, 3));
  EXPECT_EQ(s.hu.at(5, 7, 0), v.at(5, 12, 0));
}

// Compressed transfer syntaxes go through DCMTK's codecs (the fast path is only for uncompressed data).
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpls/djencode.h>

TEST(DicomReader, DecodesCompressedTransferSyntaxes) {
  DcmRLEEncoderRegistration::registerCodecs();
  DJEncoderRegistration::registerCodecs();
  DJLSEncoderRegistration::registerCodecs();
  const auto v = testing_dicom::ramp_volume();
  const std::pair<E_TransferSyntax, const char*> syntaxes[] = {
      {EXS_RLELossless, "rle"}, {EXS_JPEGProcess14SV1, "jpeg-lossless"}, {EXS_JPEGLSLossless, "jpeg-ls"}};
  for (const auto& [xfer, name] : syntaxes) {
    const fs::path dir = written_series(std::string("dicom_compressed_") + name);
    for (const auto& e : fs::directory_iterator(dir)) {
      DcmFileFormat ff;
      ASSERT_TRUE(ff.loadFile(e.path().c_str()).good());
      ASSERT_TRUE(ff.getDataset()->chooseRepresentation(xfer, nullptr).good()) << name;
      ASSERT_TRUE(ff.getDataset()->canWriteXfer(xfer)) << name;
      ASSERT_TRUE(ff.saveFile(e.path().c_str(), xfer).good()) << name;
    }
    const auto s = data::read_dicom_series(dir);
    EXPECT_TRUE(s.warnings.empty()) << name << ": " << ::testing::PrintToString(s.warnings);
    EXPECT_EQ(s.hu.values(), v.values()) << name;
  }
}

// ---- world positions, checked against the DICOM definition itself ----
// Pixel (c, r) of a slice lies at ImagePositionPatient + c * PixelSpacing[1] * IOP[0..2] + r * PixelSpacing[0] *
// IOP[3..5] (scanner mm); the reader's volume must hold that pixel's value at (that point - scanner offset).
namespace {
void expect_world_positions(const data::DicomSeries& s, const core::VolumeI16& written, const Eigen::Vector3d& row_dir,
                            const Eigen::Vector3d& col_dir, double row_spacing, double col_spacing,
                            const std::vector<Eigen::Vector3d>& ipp_by_k, const std::string& what) {
  int checked = 0;
  for (int k = 0; k < written.dims().z(); k += 3)
    for (int r = 0; r < written.dims().y(); r += 5)
      for (int c = 0; c < written.dims().x(); c += 4) {
        const Eigen::Vector3d scanner = ipp_by_k[k] + c * col_spacing * row_dir + r * row_spacing * col_dir;
        const Eigen::Vector3d idx = s.hu.world_to_index(scanner - s.scanner_origin_offset_mm);
        const Eigen::Vector3i ijk = idx.array().round().cast<int>();
        ASSERT_LT((idx - ijk.cast<double>()).norm(), 1e-6) << what << ": pixel (" << c << ", " << r << ", " << k << ")";
        ASSERT_TRUE(s.hu.in_bounds(ijk.x(), ijk.y(), ijk.z())) << what;
        ASSERT_EQ(s.hu.at(ijk.x(), ijk.y(), ijk.z()), written.at(c, r, k))
            << what << ": pixel (" << c << ", " << r << ", " << k << ")";
        // The LIDC contour mapping agrees.
        const Eigen::Vector3d via_contour = data::dicom_pixel_to_world(s, c, r, ipp_by_k[k].z());
        ASSERT_LT((via_contour - (scanner - s.scanner_origin_offset_mm)).norm(), 1e-6) << what;
        ++checked;
      }
  EXPECT_GT(checked, 20) << what;
}

std::vector<Eigen::Vector3d> positions_of(const fs::path& dir, int nz) {
  std::vector<Eigen::Vector3d> by_k(nz);
  for (const auto& e : fs::directory_iterator(dir)) {
    DcmFileFormat ff;
    EXPECT_TRUE(ff.loadFile(e.path().c_str()).good());
    Eigen::Vector3d p;
    for (int i = 0; i < 3; ++i) ff.getDataset()->findAndGetFloat64(DCM_ImagePositionPatient, p[i], i);
    Sint32 instance = 0;
    ff.getDataset()->findAndGetSint32(DCM_InstanceNumber, instance);
    by_k[nz - instance] = p;  // the writer numbers the most superior slice 1
  }
  return by_k;
}
}  // namespace

TEST(DicomReaderWorld, NonSquarePixelSpacingLandsWhereDicomSaysItIs) {
  // Columns 0.6 mm apart, rows 0.9 mm apart: PixelSpacing = "0.9\0.6" ([row spacing, column spacing]).
  const auto v = testing_dicom::ramp_volume(24, 20, 8, {0.6, 0.9, 2.5});
  const fs::path dir = xraylift::testing::scratch_dir("dicom_non_square") / "series";
  data::DicomWriteOptions o;
  o.scanner_origin_offset_mm = {12, -30, -150};
  data::write_dicom_series(dir, v, o);
  OFString spacing;
  DcmFileFormat ff;
  ASSERT_TRUE(ff.loadFile((dir / "0001.dcm").c_str()).good());
  ff.getDataset()->findAndGetOFStringArray(DCM_PixelSpacing, spacing);
  EXPECT_EQ(std::string(spacing.c_str()), "0.9\\0.6");
  const auto s = data::read_dicom_series(dir);
  EXPECT_NEAR(s.hu.spacing().x(), 0.6, 1e-9);
  EXPECT_NEAR(s.hu.spacing().y(), 0.9, 1e-9);
  expect_world_positions(s, v, {1, 0, 0}, {0, 1, 0}, 0.9, 0.6, positions_of(dir, 8), "non-square");
}

TEST(DicomReaderWorld, XFlippedSeriesIsReorientedToTheRightPositions) {
  // IOP (-1, 0, 0, 0, 1, 0): columns run toward the patient's right (-x). Same pixels and positions, so the
  // volume comes back mirrored in x, and every pixel sits where the DICOM geometry puts it.
  const auto v = testing_dicom::ramp_volume(24, 20, 8, {0.7, 0.8, 2.5});
  const fs::path dir = xraylift::testing::scratch_dir("dicom_x_flipped") / "series";
  data::write_dicom_series(dir, v);
  for (const auto& e : fs::directory_iterator(dir))
    testing_dicom::edit_dicom(
        e.path(), [](DcmDataset& d) { d.putAndInsertString(DCM_ImageOrientationPatient, "-1\\0\\0\\0\\1\\0"); });
  const auto s = data::read_dicom_series(dir);
  ASSERT_EQ(s.hu.dims(), v.dims());
  EXPECT_TRUE(s.hu.geometry().axis_aligned());
  EXPECT_NEAR(s.hu.geometry().center_world().norm(), 0.0, 1e-9);
  EXPECT_EQ(s.hu.at(0, 3, 2), v.at(23, 3, 2));
  EXPECT_EQ(s.hu.at(23, 3, 2), v.at(0, 3, 2));
  expect_world_positions(s, v, {-1, 0, 0}, {0, 1, 0}, 0.8, 0.7, positions_of(dir, 8), "x-flipped");
}
