#include "xraylift/data/synthetic_lidc.hpp"

#include <algorithm>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/data/contour.hpp"

namespace xraylift::data {

namespace {

std::vector<std::uint8_t> morph(const std::vector<std::uint8_t>& m, int w, int h, int op) {  // op +1 dilate, -1 erode
  if (op == 0) return m;
  std::vector<std::uint8_t> out(m.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      auto at = [&](int xx, int yy) { return xx >= 0 && yy >= 0 && xx < w && yy < h && m[std::size_t(yy) * w + xx]; };
      const bool any = at(x, y) || at(x - 1, y) || at(x + 1, y) || at(x, y - 1) || at(x, y + 1);
      const bool all = at(x, y) && at(x - 1, y) && at(x + 1, y) && at(x, y - 1) && at(x, y + 1);
      out[std::size_t(y) * w + x] = op > 0 ? any : all;
    }
  return out;
}

LidcCharacteristics characteristics_of(const PhantomNodule& n) {
  LidcCharacteristics c;
  c.subtlety = n.kind == NoduleKind::kGroundGlass ? 2 : 4;
  c.internal_structure = 1;
  c.calcification = 6;
  c.sphericity = n.shape == NoduleShape::kSphere ? 5 : 3;
  c.margin = n.shape == NoduleShape::kSpiculated ? 2 : 4;
  c.lobulation = n.shape == NoduleShape::kLobulated ? 4 : 1;
  c.spiculation = n.shape == NoduleShape::kSpiculated ? 4 : 1;
  c.texture = n.kind == NoduleKind::kSolid ? 5 : (n.kind == NoduleKind::kPartSolid ? 3 : 1);
  c.malignancy = n.radius_mm > 7 ? 4 : 2;
  return c;
}

}  // namespace

LidcAnnotations simulate_readers(const Phantom& ph, const std::vector<DicomSlice>& slices,
                                 const std::string& series_uid, const std::string& study_uid,
                                 const SimulatedReadOptions& o) {
  XL_CHECK(o.readers >= 1 && o.readers <= 4, "simulate_readers: readers = ", o.readers, ", expected 1..4");
  const auto& ids = ph.nodule_ids;
  const int w = ids.dims().x(), h = ids.dims().y(), nz = ids.dims().z();
  XL_CHECK(int(slices.size()) == nz, "simulate_readers: ", slices.size(), " slices for a volume of ", nz);
  LidcAnnotations a;
  a.series_uid = series_uid;
  a.study_uid = study_uid;
  a.sessions = o.readers;
  for (int r = 0; r < o.readers; ++r) a.reader_ids.push_back(core::cat("sim-reader-", r + 1));
  const int ops[4] = {0, +1, -1, 0};
  for (std::size_t n = 0; n < ph.nodules.size(); ++n) {
    const auto& nod = ph.nodules[n];
    const int id = static_cast<int>(n) + 1;
    std::vector<int> ks;
    for (int k = 0; k < nz; ++k) {
      bool any = false;
      for (int j = 0; j < h && !any; ++j)
        for (int i = 0; i < w && !any; ++i) any = ids.at(i, j, k) == id;
      if (any) ks.push_back(k);
    }
    if (ks.empty()) continue;
    for (int r = 0; r < o.readers; ++r) {
      LidcMark m;
      m.reader = r;
      m.reader_id = a.reader_ids[r];
      m.nodule_id = core::cat("Nodule ", id, " (", a.reader_ids[r], ")");
      if (2 * nod.radius_mm < o.small_below_mm) {
        // < 3 mm: one point near the centre, no characteristics.
        const Eigen::Vector3d c = ids.world_to_index(nod.center_mm);
        const int k = std::clamp(int(std::lround(c.z())), 0, nz - 1);
        LidcRoi roi{slices[k].z_mm, slices[k].sop_uid, true, {Eigen::Vector2d(std::lround(c.x()), std::lround(c.y()))}};
        m.rois.push_back(roi);
        a.marks.push_back(m);
        continue;
      }
      m.characteristics = characteristics_of(nod);
      for (std::size_t s = 0; s < ks.size(); ++s) {
        if (r == 3 && ks.size() > 2 && (s == 0 || s + 1 == ks.size())) continue;  // reader 4 skips the end slices
        const int k = ks[s];
        std::vector<std::uint8_t> mask(std::size_t(w) * h, 0);
        for (int j = 0; j < h; ++j)
          for (int i = 0; i < w; ++i) mask[std::size_t(j) * w + i] = ids.at(i, j, k) == id;
        auto shaped = morph(mask, w, h, ops[r]);
        if (std::find(shaped.begin(), shaped.end(), 1) == shaped.end()) shaped = mask;  // eroded away: keep it
        for (auto& outline : outside_outlines(shaped, w, h)) {  // LIDC: the outline runs just outside
          LidcRoi roi;
          roi.z_mm = slices[k].z_mm;
          roi.sop_uid = slices[k].sop_uid;
          roi.edge = std::move(outline);
          m.rois.push_back(std::move(roi));
        }
      }
      if (!m.rois.empty()) a.marks.push_back(std::move(m));
    }
  }
  if (o.non_nodule) {
    // Reader 1 notes a non-nodule finding on a vessel near the middle slice.
    const int k = nz / 2;
    for (int j = 0; j < h; ++j)
      for (int i = 0; i < w; ++i)
        if (ph.labels.at(i, j, k) == kLabelVessel && a.non_nodules.empty())
          a.non_nodules.push_back({0, "Non-nodule 001", slices[k].z_mm, slices[k].sop_uid, Eigen::Vector2d(i, j)});
  }
  return a;
}

WrittenLidcCase write_phantom_as_lidc(const std::filesystem::path& folder, const Phantom& ph,
                                      const SimulatedReadOptions& o, const Eigen::Vector3d& scanner_offset_mm) {
  WrittenLidcCase w;
  DicomWriteOptions dw;
  dw.patient_id = ph.ct.id;
  dw.uid_seed = ph.ct.meta.value("seed", std::uint64_t(0));
  dw.scanner_origin_offset_mm = scanner_offset_mm;
  dw.series_uid = derived_uid("series/" + ph.ct.id);
  dw.study_uid = derived_uid("study/" + ph.ct.id);
  w.dicom_dir = folder / "dicom";
  w.xml_file = folder / "annotations.xml";
  w.series_uid = dw.series_uid;
  w.slices = write_dicom_series(w.dicom_dir, ph.ct.hu, dw);
  const LidcAnnotations a = simulate_readers(ph, w.slices, dw.series_uid, dw.study_uid, o);
  core::write_file_atomic(w.xml_file, write_lidc_xml(a));
  return w;
}

}  // namespace xraylift::data
