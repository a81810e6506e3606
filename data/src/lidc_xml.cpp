// LIDC annotation XML: parsing (tinyxml2, namespace-prefix agnostic) and writing (for synthetic readers).
#include <tinyxml2.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/data/lidc.hpp"

namespace xraylift::data {
namespace fs = std::filesystem;
using tinyxml2::XMLElement;

nlohmann::json LidcCharacteristics::to_json() const {
  return {{"subtlety", subtlety},
          {"internalStructure", internal_structure},
          {"calcification", calcification},
          {"sphericity", sphericity},
          {"margin", margin},
          {"lobulation", lobulation},
          {"spiculation", spiculation},
          {"texture", texture},
          {"malignancy", malignancy}};
}

namespace {

const char* local_name(const XMLElement* e) {
  const char* n = e->Name();
  const char* colon = std::strrchr(n, ':');
  return colon ? colon + 1 : n;
}

bool is(const XMLElement* e, const char* name) { return std::strcmp(local_name(e), name) == 0; }

const XMLElement* child(const XMLElement* parent, const char* name) {
  for (const XMLElement* c = parent->FirstChildElement(); c; c = c->NextSiblingElement())
    if (is(c, name)) return c;
  return nullptr;
}

std::string trimmed(const char* s) {
  std::string t = s ? s : "";
  const auto b = t.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return t.substr(b, t.find_last_not_of(" \t\r\n") - b + 1);
}

std::string text_of(const XMLElement* parent, const char* name) {
  const XMLElement* c = child(parent, name);
  return c ? trimmed(c->GetText()) : std::string();
}

struct Ctx {
  std::string origin;
  std::string where(const XMLElement* e) const { return core::cat(origin, ":", e->GetLineNum()); }
};

double number(const Ctx& ctx, const XMLElement* parent, const char* name, bool required = true, double fallback = 0) {
  const XMLElement* c = child(parent, name);
  if (!c) {
    XL_CHECK(!required, ctx.where(parent), ": <", local_name(parent), "> has no <", name, ">");
    return fallback;
  }
  const std::string t = trimmed(c->GetText());
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  XL_CHECK(!t.empty() && end && *end == '\0' && std::isfinite(v), ctx.where(c), ": <", name, "> = '", t,
           "', expected a number");
  return v;
}

// An optional integer characteristic: absent or empty is unknown (0); text that is not a number is unknown too,
// with a warning naming the file, line and element (the annotation stays usable).
int optional_int(const Ctx& ctx, const XMLElement* parent, const char* name, std::vector<std::string>& warnings) {
  const XMLElement* c = child(parent, name);
  if (!c) return 0;
  const std::string t = trimmed(c->GetText());
  if (t.empty()) return 0;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (!(end && *end == '\0' && std::isfinite(v) && v >= 0 && v <= 100 && v == std::floor(v))) {
    warnings.push_back(core::cat(ctx.where(c), ": <", name, "> = '", t, "' is not a rating: treated as unknown"));
    return 0;
  }
  return static_cast<int>(v);
}

LidcRoi parse_roi(const Ctx& ctx, const XMLElement* r) {
  LidcRoi roi;
  roi.z_mm = number(ctx, r, "imageZposition");
  roi.sop_uid = text_of(r, "imageSOP_UID");
  const std::string inc = text_of(r, "inclusion");
  XL_CHECK(inc.empty() || inc == "TRUE" || inc == "FALSE" || inc == "true" || inc == "false", ctx.where(r),
           ": <inclusion> = '", inc, "', expected TRUE or FALSE");
  roi.inclusion = !(inc == "FALSE" || inc == "false");
  for (const XMLElement* e = r->FirstChildElement(); e; e = e->NextSiblingElement()) {
    if (!is(e, "edgeMap")) continue;
    roi.edge.emplace_back(number(ctx, e, "xCoord"), number(ctx, e, "yCoord"));
  }
  return roi;
}

}  // namespace

LidcAnnotations parse_lidc_xml(const std::string& text, const std::string& origin) {
  tinyxml2::XMLDocument doc;
  const auto rc = doc.Parse(text.c_str(), text.size());
  XL_CHECK(rc == tinyxml2::XML_SUCCESS, origin, ":", doc.ErrorLineNum(), ": malformed XML (",
           doc.ErrorStr() ? doc.ErrorStr() : "?", ")");
  const XMLElement* root = doc.RootElement();
  XL_CHECK(root, origin, ": no root element");
  if (is(root, "IdriReadMessage"))
    throw SkippedAnnotationFile(
        core::cat(origin, ": chest-radiograph read message (IdriReadMessage), not a CT annotation: skipped"));
  XL_CHECK(is(root, "LidcReadMessage"), origin, ": root element <", root->Name(), ">, expected <LidcReadMessage>");
  Ctx ctx{origin};
  LidcAnnotations a;
  a.file = origin;
  if (const XMLElement* h = child(root, "ResponseHeader")) {
    a.series_uid = text_of(h, "SeriesInstanceUid");
    a.study_uid = text_of(h, "StudyInstanceUID");
  }
  if (a.series_uid.empty()) a.warnings.push_back(core::cat(origin, ": ResponseHeader has no SeriesInstanceUid"));
  for (const XMLElement* s = root->FirstChildElement(); s; s = s->NextSiblingElement()) {
    if (!is(s, "readingSession")) continue;
    const int reader = a.sessions++;
    a.reader_ids.push_back(text_of(s, "servicingRadiologistID"));
    for (const XMLElement* n = s->FirstChildElement(); n; n = n->NextSiblingElement()) {
      if (is(n, "unblindedReadNodule")) {
        LidcMark m;
        m.reader = reader;
        m.reader_id = a.reader_ids.back();
        m.nodule_id = text_of(n, "noduleID");
        if (const XMLElement* c = child(n, "characteristics")) {
          if (c->FirstChildElement()) {
            // Every rating is optional: absent or empty ones are unknown (0).
            LidcCharacteristics ch;
            auto get = [&](const char* name) { return optional_int(ctx, c, name, a.warnings); };
            ch.subtlety = get("subtlety");
            ch.internal_structure = get("internalStructure");
            ch.calcification = get("calcification");
            ch.sphericity = get("sphericity");
            ch.margin = get("margin");
            ch.lobulation = get("lobulation");
            ch.spiculation = get("spiculation");
            ch.texture = get("texture");
            ch.malignancy = get("malignancy");
            const bool any = ch.subtlety || ch.internal_structure || ch.calcification || ch.sphericity || ch.margin ||
                             ch.lobulation || ch.spiculation || ch.texture || ch.malignancy;
            if (any) m.characteristics = ch;
          }
        }
        for (const XMLElement* r = n->FirstChildElement(); r; r = r->NextSiblingElement()) {
          if (!is(r, "roi")) continue;
          LidcRoi roi = parse_roi(ctx, r);
          if (roi.edge.empty()) {
            a.warnings.push_back(core::cat(ctx.where(r), ": roi of nodule '", m.nodule_id, "' (reader ", reader + 1,
                                           ") has no edgeMap points: ignored"));
            continue;
          }
          m.rois.push_back(std::move(roi));
        }
        if (m.rois.empty()) {
          a.warnings.push_back(core::cat(ctx.where(n), ": nodule '", m.nodule_id, "' (reader ", reader + 1,
                                         ") has no usable roi: ignored"));
          continue;
        }
        a.marks.push_back(std::move(m));
      } else if (is(n, "nonNodule")) {
        LidcNonNodule nn;
        nn.reader = reader;
        nn.id = text_of(n, "nonNoduleID");
        nn.z_mm = number(ctx, n, "imageZposition");
        nn.sop_uid = text_of(n, "imageSOP_UID");
        const XMLElement* locus = child(n, "locus");
        XL_CHECK(locus, ctx.where(n), ": <nonNodule> has no <locus>");
        nn.locus = Eigen::Vector2d(number(ctx, locus, "xCoord"), number(ctx, locus, "yCoord"));
        a.non_nodules.push_back(nn);
      }
    }
  }
  if (a.sessions > 4)
    a.warnings.push_back(core::cat(origin, ": ", a.sessions, " reading sessions (LIDC has at most 4)"));
  return a;
}

LidcAnnotations read_lidc_xml(const fs::path& file) { return parse_lidc_xml(core::read_file(file), file.string()); }

std::string lidc_xml_series_uid(const fs::path& file) {
  // Cheap: the header sits in the first few kilobytes.
  std::ifstream in(file, std::ios::binary);
  std::string head(16384, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  if (head.find("LidcReadMessage") == std::string::npos) return {};
  const auto b = head.find("SeriesInstanceUid>");
  if (b == std::string::npos) return {};
  const auto s = b + std::strlen("SeriesInstanceUid>");
  const auto e = head.find('<', s);
  return e == std::string::npos ? std::string() : trimmed(head.substr(s, e - s).c_str());
}

namespace {
std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '&':
        o += "&amp;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}
}  // namespace

std::string write_lidc_xml(const LidcAnnotations& a) {
  std::ostringstream x;
  x.precision(10);
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<LidcReadMessage uid=\"" << esc(a.series_uid) << ".xraylift\" xmlns=\"http://www.nih.gov\" "
    << "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
    << "  <ResponseHeader>\n    <Version>1.8.1</Version>\n    <TaskDescription>Second unblinded read (simulated by "
       "xraylift)</TaskDescription>\n"
    << "    <SeriesInstanceUid>" << esc(a.series_uid) << "</SeriesInstanceUid>\n"
    << "    <StudyInstanceUID>" << esc(a.study_uid) << "</StudyInstanceUID>\n  </ResponseHeader>\n";
  for (int s = 0; s < a.sessions; ++s) {
    x << "  <readingSession>\n    <annotationVersion>3.12</annotationVersion>\n    <servicingRadiologistID>"
      << esc(s < int(a.reader_ids.size()) ? a.reader_ids[s] : core::cat("reader-", s + 1))
      << "</servicingRadiologistID>\n";
    for (const auto& m : a.marks) {
      if (m.reader != s) continue;
      x << "    <unblindedReadNodule>\n      <noduleID>" << esc(m.nodule_id) << "</noduleID>\n";
      if (m.characteristics) {
        const auto& c = *m.characteristics;
        x << "      <characteristics>\n        <subtlety>" << c.subtlety << "</subtlety>\n        <internalStructure>"
          << c.internal_structure << "</internalStructure>\n        <calcification>" << c.calcification
          << "</calcification>\n        <sphericity>" << c.sphericity << "</sphericity>\n        <margin>" << c.margin
          << "</margin>\n        <lobulation>" << c.lobulation << "</lobulation>\n        <spiculation>"
          << c.spiculation << "</spiculation>\n        <texture>" << c.texture << "</texture>\n        <malignancy>"
          << c.malignancy << "</malignancy>\n      </characteristics>\n";
      }
      for (const auto& r : m.rois) {
        // LIDC files carry a trailing space after the z value; the reader must cope, so we write one too.
        x << "      <roi>\n        <imageZposition>" << r.z_mm << " </imageZposition>\n        <imageSOP_UID>"
          << esc(r.sop_uid) << "</imageSOP_UID>\n        <inclusion>" << (r.inclusion ? "TRUE" : "FALSE")
          << "</inclusion>\n";
        for (const auto& p : r.edge)
          x << "        <edgeMap>\n          <xCoord>" << p.x() << "</xCoord>\n          <yCoord>" << p.y()
            << "</yCoord>\n        </edgeMap>\n";
        x << "      </roi>\n";
      }
      x << "    </unblindedReadNodule>\n";
    }
    for (const auto& n : a.non_nodules) {
      if (n.reader != s) continue;
      x << "    <nonNodule>\n      <nonNoduleID>" << esc(n.id) << "</nonNoduleID>\n      <imageZposition>" << n.z_mm
        << " </imageZposition>\n      <imageSOP_UID>" << esc(n.sop_uid)
        << "</imageSOP_UID>\n      <locus>\n        <xCoord>" << n.locus.x() << "</xCoord>\n        <yCoord>"
        << n.locus.y() << "</yCoord>\n      </locus>\n    </nonNodule>\n";
    }
    x << "  </readingSession>\n";
  }
  x << "</LidcReadMessage>\n";
  return x.str();
}

}  // namespace xraylift::data
