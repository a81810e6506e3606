#pragma once
// Checks on a torch zip archive (Python's torch.save; TorchScript archives are recognised and refused) that
// libtorch does not make before it trusts the file: every pickle in it (data.pkl, constants.pkl, *.debug_pkl) uses
// memo slots in order. libtorch's unpickler grows its memo table to whatever index a LONG_BINPUT names, so a
// 2 KB file with the index 0xFFFFFFFF asks for 64 GB (the fuzz loop's reproducer,
// tests/fuzz/corpus/torch_weights/crash-memo-index-huge, was killed by the OOM killer at 17 GB). Call it on the
// bytes before handing the file to libtorch (detect2d's weight reader does).
#include <ATen/core/ivalue.h>

#include <string>
#include <string_view>
#include <vector>

namespace xraylift::train {

// Whether the bytes start like a zip archive (the format of every current torch file).
bool looks_like_zip(std::string_view bytes);
// The record names of the zip archive `bytes` (as libtorch's reader lists them, without the archive's folder);
// core::InputError naming `where` when libtorch cannot open it as a zip.
std::vector<std::string> torch_archive_records(const std::string& bytes, const std::string& where);
// The first record that marks a TorchScript archive (torch.jit.save, C++ torch::save / OutputArchive): a code/
// source, constants.pkl or a *.debug_pkl, compared without case; empty for a Python torch.save state dict.
// libtorch compiles the code of such an archive when it loads it, so xraylift refuses them (docs/RELIABILITY.md).
std::string torchscript_record(const std::vector<std::string>& records);
// Throws core::InputError naming `where` and the record when a pickle record of the zip archive `bytes` is not
// one that Python's or libtorch's pickler writes (an unknown opcode, an argument past the end, a memo index
// beyond the next free slot); a zip that libtorch cannot open is an InputError too.
void check_torch_archive(const std::string& bytes, const std::string& where);
// Python's torch.save zip (<name>/data.pkl, its storages in <name>/data/<key>), unpickled the way torch::pickle_load
// does it, except that each storage is the record's own bytes: pickle_load makes a storage of the size the pickle
// declares (numel x item size) around a record that may be shorter (a corrupted file: record 0 bytes, declared 16),
// and the first read of the tensor runs past the buffer (a SEGV found by the fuzz loop,
// tests/fuzz/corpus/torch_weights/crash-record-shorter-than-storage). Callers check each tensor against its storage
// (libtorch's unpickler sets sizes and strides unchecked). libtorch's errors (c10::Error) pass through.
c10::IValue load_torch_pickle(const std::string& bytes);
// The same check on one pickle stream (protocol 2..5 opcodes); `where` names it in errors.
void check_pickle(std::string_view pickle, const std::string& where);

}  // namespace xraylift::train
