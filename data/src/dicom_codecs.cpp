#include "dicom_codecs.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <mutex>

namespace xraylift::data::detail {

void register_dicom_codecs() {
  static std::once_flag once;
  std::call_once(once, [] {
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
    // Our messages name the file and the problem; DCMTK's own warnings on stderr would only add noise.
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
  });
}

}  // namespace xraylift::data::detail
