#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "xraylift/core/config.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift::core;

namespace {
void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no ConfigError>";
}
}  // namespace

TEST(Config, BaseIncludeDeepMergesAndOverridesWin) {
  const auto dir = xraylift::testing::scratch_dir("config_base");
  write(dir / "base.yaml", "rig:\n  views: 10\n  sad_mm: 300\ntrain:\n  lr: 0.0002\n");
  write(dir / "child.yaml", "base: base.yaml\nrig:\n  sad_mm: 1000\n");
  Config c = Config::load(dir / "child.yaml");
  EXPECT_EQ(c.get<int>("rig.views", 0), 10);
  EXPECT_DOUBLE_EQ(c.get<double>("rig.sad_mm", 0), 1000);
  EXPECT_EQ(c.origin("rig.sad_mm"), (dir / "child.yaml").string());
  EXPECT_EQ(c.origin("rig.views"), (dir / "base.yaml").string());
  c.set("train.lr=0.001");
  c.set("train.extra.flag=true");
  EXPECT_DOUBLE_EQ(c.get<double>("train.lr", 0), 0.001);
  EXPECT_TRUE(c.get<bool>("train.extra.flag", false));
  EXPECT_EQ(c.origin("train.lr"), "--set");
  EXPECT_EQ(c.get<int>("missing.key", 42), 42);
  c.set("rig.list=[1, 2, 3]");
  EXPECT_EQ(c.get<std::vector<int>>("rig.list", {}).size(), 3u);
  EXPECT_TRUE(c.unknown_keys().empty());
}

TEST(Config, UnknownKeysNameTheKeyAndFile) {
  const auto dir = xraylift::testing::scratch_dir("config_unknown");
  write(dir / "c.yaml", "rig:\n  views: 10\n  sdd_nm: 600\n");
  Config c = Config::load(dir / "c.yaml");
  c.section("rig").get<int>("views", 0);
  const std::string msg = message_of([&] { c.check_no_unknown_keys(); });
  EXPECT_NE(msg.find("'rig.sdd_nm'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("c.yaml"), std::string::npos) << msg;
}

TEST(Config, WrongTypesNameTheKeyAndFile) {
  const auto dir = xraylift::testing::scratch_dir("config_type");
  write(dir / "c.yaml", "rig:\n  views: ten\n");
  Config c = Config::load(dir / "c.yaml");
  const std::string msg = message_of([&] { c.get<int>("rig.views", 1); });
  EXPECT_NE(msg.find("'rig.views'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("c.yaml"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'ten'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("an integer"), std::string::npos) << msg;
  Config s = Config::from_yaml("a: [1, 2]", "s.yaml");
  EXPECT_NE(message_of([&] { s.get<std::string>("a", ""); }).find("a list"), std::string::npos);
}

TEST(Config, MissingAndBrokenFilesAreClearErrors) {
  const auto dir = xraylift::testing::scratch_dir("config_missing");
  EXPECT_NE(message_of([&] { Config::load(dir / "nope.yaml"); }).find("nope.yaml"), std::string::npos);
  write(dir / "broken.yaml", "rig: [unclosed\n");
  EXPECT_NE(message_of([&] { Config::load(dir / "broken.yaml"); }).find("broken.yaml"), std::string::npos);
  write(dir / "loop_a.yaml", "base: loop_b.yaml\n");
  write(dir / "loop_b.yaml", "base: loop_a.yaml\n");
  EXPECT_NE(message_of([&] { Config::load(dir / "loop_a.yaml"); }).find("circular"), std::string::npos);
  write(dir / "nobase.yaml", "base: missing_base.yaml\n");
  EXPECT_NE(message_of([&] { Config::load(dir / "nobase.yaml"); }).find("missing_base.yaml"), std::string::npos);
  Config c;
  EXPECT_NE(message_of([&] { c.set("novalue"); }).find("key=value"), std::string::npos);
  EXPECT_NE(message_of([&] { c.require<int>("needed"); }).find("'needed'"), std::string::npos);
  c.set("a=1");
  EXPECT_NE(message_of([&] { c.set("a.b=2"); }).find("not a section"), std::string::npos);
}

TEST(Config, SectionsShareReadTracking) {
  Config c = Config::from_yaml("model:\n  depth: 50\n  fpn: {channels: 256}\n", "m.yaml");
  const Config model = c.section("model");
  EXPECT_EQ(model.get<int>("depth", 0), 50);
  EXPECT_EQ(model.full_key("depth"), "model.depth");
  EXPECT_EQ(c.unknown_keys(), std::vector<std::string>{"model.fpn.channels"});
  model.node("fpn");
  EXPECT_TRUE(c.unknown_keys().empty());
}

// Found by fuzzing (docs/RELIABILITY.md): YAML allows a list or a map as a key, and a base name the OS refuses;
// both escaped as yaml-cpp / std::filesystem exceptions instead of a ConfigError naming the file.
TEST(Config, NonTextKeysAndUnopenableBasesAreConfigErrors) {
  const auto dir = xraylift::testing::scratch_dir("config_fuzz_findings");
  EXPECT_NE(
      message_of([] { Config::from_yaml("model:\n  [0, 1]: 3\n", "k.yaml"); }).find("under 'model' is not plain text"),
      std::string::npos);
  write(dir / "key.yaml", "? {a: 1}\n: 2\n");
  EXPECT_NE(message_of([&] { Config::load(dir / "key.yaml"); }).find("key.yaml"), std::string::npos);
  write(dir / "long.yaml", "base: " + std::string(5000, 'x') + ".yaml\n");
  EXPECT_NE(message_of([&] { Config::load(dir / "long.yaml"); }).find("cannot be opened"), std::string::npos);
  write(dir / "list.yaml", "base: [{a: 1}]\n");
  EXPECT_NE(message_of([&] { Config::load(dir / "list.yaml"); }).find("'base' must be a file name"), std::string::npos);
  write(dir / "folder.yaml", "base: .\n");
  EXPECT_NE(message_of([&] { Config::load(dir / "folder.yaml"); }).find("is a folder"), std::string::npos);
  Config c;
  EXPECT_NE(message_of([&] { c.set("a={[1]: 2}"); }).find("not plain text"), std::string::npos);
}

// Catches a range getter that skips the check (or lets NaN through): rig.views = 100000000 once reached the
// allocator (issue 23).
TEST(Config, GetInRangeRefusesOutOfRangeAndNanNamingKeyValueAndRange) {
  Config c = Config::from_yaml("rig: {views: -3, sad_mm: .nan}\nn: 5\n", "rig.yaml");
  EXPECT_EQ(c.get_in_range("n", 1, 1, 10), 5);
  EXPECT_EQ(c.get_in_range("missing", 7, 1, 10), 7);
  const std::string views = message_of([&] { c.section("rig").get_in_range("views", 10, 1, 720); });
  EXPECT_NE(views.find("config key 'rig.views' = -3 (from rig.yaml), expected 1 .. 720"), std::string::npos) << views;
  const std::string sad = message_of([&] { c.section("rig").get_in_range("sad_mm", 1000.0, 1.0, 1e5); });
  EXPECT_NE(sad.find("'rig.sad_mm' = nan"), std::string::npos) << sad;
  EXPECT_NE(message_of([&] { c.get_in_range("n", 1, 6, 10); }), "<no ConfigError>");
}
