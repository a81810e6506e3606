#pragma once
// Registers DCMTK's decoders (JPEG, JPEG-LS, RLE) once per process.
namespace xraylift::data::detail {
void register_dicom_codecs();
}
