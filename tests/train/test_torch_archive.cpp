// train/torch_archive.hpp: the checks made on a torch zip archive before libtorch reads it.
#include "xraylift/train/torch_archive.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/testing/testing.hpp"

namespace xraylift::train {
namespace {

std::string message_of(const std::string& pickle) {
  try {
    check_pickle(pickle, "p.pkl");
  } catch (const core::InputError& e) {
    return e.what();
  }
  return "";
}

// What the picklers write passes: catches a check that rejects real files (every checkpoint and torch.save file).
TEST(TorchArchive, FilesTorchWritesPass) {
  c10::Dict<std::string, torch::Tensor> dict;
  dict.insert("w", torch::ones({2, 3}));
  dict.insert("b", torch::zeros({3}, torch::kLong));
  const auto bytes = torch::pickle_save(dict);
  const std::string file(bytes.begin(), bytes.end());
  ASSERT_TRUE(looks_like_zip(file));
  EXPECT_NO_THROW(check_torch_archive(file, "state.pt"));
  EXPECT_EQ(torchscript_record(torch_archive_records(file, "state.pt")), "");
}

// Catches a TorchScript archive passing for a state dict (libtorch compiles the code it carries; the readers
// refuse it) and a state dict taken for one: an InputArchive (the old checkpoint.pt, C++ torch::save) and
// torch.jit.save's archive (tests/fuzz/corpus/torch_weights/script_module) have code/ sources and constants.pkl.
TEST(TorchArchive, TorchScriptArchivesAreRecognisedByTheirRecords) {
  const auto dir = xraylift::testing::scratch_dir("train_torch_archive");
  torch::serialize::OutputArchive archive;
  archive.write("step", torch::tensor(7));
  archive.save_to((dir / "checkpoint.pt").string());
  const std::string old_checkpoint = core::read_file(dir / "checkpoint.pt");
  EXPECT_NE(torchscript_record(torch_archive_records(old_checkpoint, "checkpoint.pt")), "");
  EXPECT_NO_THROW(check_torch_archive(old_checkpoint, "checkpoint.pt"));
  const auto script = xraylift::testing::source_dir() / "tests/fuzz/corpus/torch_weights/script_module";
  EXPECT_NE(torchscript_record(torch_archive_records(core::read_file(script), "script_module")), "");
  EXPECT_EQ(torchscript_record({"data.pkl", "data/0", "version", ".data/serialization_id"}), "");
  EXPECT_EQ(torchscript_record({"data.pkl", "CODE/__torch__.py"}), "CODE/__torch__.py");  // names without case
  EXPECT_EQ(torchscript_record({"data.pkl", "constants.pkl"}), "constants.pkl");
  EXPECT_THROW(torch_archive_records("PK\x03\x04 not a zip", "x.pt"), core::InputError);
}

// Catches libtorch's unpickler being handed a memo index far beyond the next slot: it grows its memo table to the
// index (LONG_BINPUT 0xFFFFFFFF: 64 GB; the fuzz loop's file was OOM-killed at 17 GB).
TEST(TorchArchive, MemoIndexBeyondTheNextSlotIsAnInputError) {
  EXPECT_EQ(message_of(std::string("\x80\x02Nq\x00h\x00.", 8)), "");  // PROTO 2, NONE, BINPUT 0, BINGET 0
  const std::string huge = std::string("\x80\x02N", 3) + "r\xff\xff\xff\xff" + ".";
  EXPECT_NE(message_of(huge).find("p.pkl: pickle memo index 4294967295 at byte 3 skips slots"), std::string::npos)
      << message_of(huge);
  EXPECT_NE(message_of(std::string("\x80\x02", 2) + "h\x05" + ".").find("reads memo slot 5"), std::string::npos);
  const auto file = xraylift::testing::source_dir() / "tests/fuzz/corpus/torch_weights/crash-memo-index-huge";
  // The same in a pickle named "data.pKl", which libtorch's zip reader opens as data.pkl (names without case).
  for (const char* name : {"crash-memo-index-huge", "crash-pickle-name-in-other-case"}) {
    try {
      check_torch_archive(core::read_file(file.parent_path() / name), "w.pt");
      ADD_FAILURE() << name << ": expected an InputError";
    } catch (const core::InputError& e) {
      EXPECT_NE(std::string(e.what()).find("memo index"), std::string::npos) << e.what();
    }
  }
}

// Catches a walk that reads past the stream (a length argument beyond the end, a missing STOP, an unknown opcode).
TEST(TorchArchive, TruncatedOrUnknownPicklesAreInputErrors) {
  EXPECT_NE(message_of(std::string("\x80\x02X\xff\x00\x00\x00"
                                   "ab",
                                   9))
                .find("runs past its end"),
            std::string::npos);
  EXPECT_NE(message_of(std::string("\x80\x02N", 3)).find("no STOP"), std::string::npos);
  EXPECT_NE(message_of(std::string("\x80\x02\xfe.", 4)).find("opcode 0xfe at byte 2"), std::string::npos);
  EXPECT_NE(message_of(std::string("\x80\x02J\x01", 4)).find("ends inside an opcode's argument"), std::string::npos);
  EXPECT_THROW(check_torch_archive("PK\x03\x04 not a zip", "x.pt"), core::InputError);
}

// Catches libtorch's zip reader reading outside the bytes it was given: caffe2's MemoryReadAdapter copied any range,
// and the fuzz loop's zip, whose central directory lies past the end of the file, made it read beyond (SEGV).
TEST(TorchArchive, ZipWithItsDirectoryPastTheEndIsAnInputError) {
  const auto file =
      xraylift::testing::source_dir() / "tests/fuzz/corpus/torch_weights/crash-central-directory-past-end";
  const std::string bytes = core::read_file(file);
  ASSERT_TRUE(looks_like_zip(bytes));
  EXPECT_THROW(check_torch_archive(bytes, "w.pt"), core::InputError);
  EXPECT_THROW(load_torch_pickle(bytes), c10::Error);
}

}  // namespace
}  // namespace xraylift::train
