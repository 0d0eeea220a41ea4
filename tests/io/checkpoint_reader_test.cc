// CheckpointReader over single files, plain directories and sharded directories with an index,
// including indexes that disagree with their shards.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/safetensors_reader.h"
#include "io/safetensors_writer.h"
#include "io_test_support.h"

namespace slidesparse {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using io_test::error_of;

constexpr const char* kShard1 = "model-00001-of-00002.safetensors";
constexpr const char* kShard2 = "model-00002-of-00002.safetensors";

// Writes one U8 tensor per name, each filled with its name's first letter.
void write_shard(const std::filesystem::path& file, const std::vector<std::string>& names) {
  std::vector<TensorDecl> decls;
  for (const auto& name : names) decls.push_back({name, DType::U8, {3}});
  SafetensorsWriter writer(file, decls);
  for (const auto& name : names) writer.write(name, std::vector<std::byte>(3, static_cast<std::byte>(name[0])));
  writer.finish();
}

void write_index(const std::filesystem::path& dir, const std::string& weight_map) {
  io_test::write_bytes(dir / "model.safetensors.index.json",
                       R"({"metadata": {"total_size": 15}, "weight_map": {)" + weight_map + "}}");
}

std::string text(const TensorRef& ref) {
  return {reinterpret_cast<const char*>(ref.data.data()), ref.data.size()};
}

class CheckpointReaderTest : public ::testing::Test {
 protected:
  // Two shards: a, b, c in the first, d, e in the second; the index lists them all correctly.
  void write_sharded(const std::string& weight_map) {
    write_shard(dir_ / kShard1, {"c", "a", "b"});
    write_shard(dir_ / kShard2, {"e", "d"});
    write_index(dir_.path(), weight_map);
  }
  static std::string full_map() {
    return std::string(R"("a": ")") + kShard1 + R"(", "b": ")" + kShard1 + R"(", "c": ")" + kShard1 + R"(", )" +
           R"("d": ")" + kShard2 + R"(", "e": ")" + kShard2 + R"(")";
  }
  std::string dir_error() { return error_of([&] { CheckpointReader reader(dir_.path()); }); }

  io_test::ScratchDir dir_;
};

TEST_F(CheckpointReaderTest, ReadsShardedDirectoryWithIndex) {
  write_sharded(full_map());
  const CheckpointReader reader(dir_.path());
  EXPECT_EQ(reader.directory(), dir_.path());
  ASSERT_EQ(reader.files().size(), 2u);
  EXPECT_EQ(reader.files()[0]->path().filename(), kShard1);
  EXPECT_THAT(reader.tensor_names(), ElementsAre("c", "a", "b", "e", "d"));
  for (const auto& name : reader.tensor_names()) {
    const TensorRef& ref = reader.get(name);
    EXPECT_EQ(text(ref), std::string(3, name[0]));
    EXPECT_EQ(ref.info->name, name);
    EXPECT_EQ(ref.file->path().filename(), name < "d" ? kShard1 : kShard2);
  }
  EXPECT_EQ(reader.find("zzz"), nullptr);
}

TEST_F(CheckpointReaderTest, ReadsASingleFile) {
  write_shard(dir_ / "model.safetensors", {"w", "v"});
  const CheckpointReader reader(dir_ / "model.safetensors");
  EXPECT_EQ(reader.location(), dir_ / "model.safetensors");
  EXPECT_EQ(reader.directory(), dir_.path());
  EXPECT_THAT(reader.tensor_names(), ElementsAre("w", "v"));
  EXPECT_EQ(text(reader.get("v")), "vvv");
}

TEST_F(CheckpointReaderTest, ReadsEverySafetensorsFileWithoutIndex) {
  write_shard(dir_ / "b.safetensors", {"y"});
  write_shard(dir_ / "a.safetensors", {"x"});
  write_shard(dir_ / "._a.safetensors", {"junk"});  // hidden: an OS dropping, not a shard
  io_test::write_bytes(dir_ / "config.json", "{}");
  const CheckpointReader reader(dir_.path());
  EXPECT_EQ(reader.files().size(), 2u);
  EXPECT_THAT(reader.tensor_names(), ElementsAre("x", "y"));
}

TEST_F(CheckpointReaderTest, MissingTensor) {
  write_shard(dir_ / "model.safetensors", {"w"});
  const CheckpointReader reader(dir_.path());
  EXPECT_EQ(error_of([&] { reader.get("model.norm.weight"); }),
            dir_.path().string() + ": missing tensor 'model.norm.weight'");
}

TEST_F(CheckpointReaderTest, NoSafetensorsFiles) {
  io_test::write_bytes(dir_ / "config.json", "{}");
  EXPECT_EQ(dir_error(), dir_.path().string() + ": no .safetensors files");
  const auto nowhere = dir_ / "nowhere";
  EXPECT_EQ(error_of([&] { CheckpointReader reader(nowhere); }), nowhere.string() + ": no such file or directory");
}

TEST_F(CheckpointReaderTest, MissingShard) {
  write_shard(dir_ / kShard1, {"c", "a", "b"});
  write_index(dir_.path(), full_map());
  EXPECT_EQ(dir_error(), dir_.path().string() + ": shard '" + kShard2 +
                             "' named by model.safetensors.index.json is missing");
}

TEST_F(CheckpointReaderTest, ShardLacksATensor) {
  write_sharded(full_map() + R"(, "f": ")" + kShard2 + R"(")");
  EXPECT_EQ(dir_error(), (dir_ / kShard2).string() + ": missing tensor 'f' named by model.safetensors.index.json");
}

TEST_F(CheckpointReaderTest, IndexPointsToTheWrongShard) {
  write_shard(dir_ / kShard1, {"a"});
  write_shard(dir_ / kShard2, {"b"});
  write_index(dir_.path(), std::string(R"("a": ")") + kShard2 + R"(", "b": ")" + kShard2 + R"(")");
  EXPECT_EQ(dir_error(), (dir_ / kShard2).string() + ": missing tensor 'a' named by model.safetensors.index.json");
}

TEST_F(CheckpointReaderTest, TensorMissingFromIndex) {
  write_sharded(std::string(R"("a": ")") + kShard1 + R"(", "b": ")" + kShard1 + R"(", "d": ")" + kShard2 + R"(", )" +
                R"("e": ")" + kShard2 + R"(")");
  EXPECT_EQ(dir_error(), (dir_ / kShard1).string() + ": tensor 'c' is not listed in model.safetensors.index.json");
}

TEST_F(CheckpointReaderTest, TensorInTwoShards) {
  write_shard(dir_ / kShard1, {"a", "b"});
  write_shard(dir_ / kShard2, {"b"});
  write_index(dir_.path(), std::string(R"("a": ")") + kShard1 + R"(", "b": ")" + kShard2 + R"(")");
  EXPECT_EQ(dir_error(), dir_.path().string() + ": tensor 'b' is in both '" + kShard1 + "' and '" + kShard2 + "'");
  std::filesystem::remove(dir_ / "model.safetensors.index.json");
  EXPECT_THAT(dir_error(), HasSubstr("tensor 'b' is in both"));
}

TEST_F(CheckpointReaderTest, MalformedIndex) {
  write_shard(dir_ / kShard1, {"a"});
  const std::string index = (dir_ / "model.safetensors.index.json").string();
  write_index(dir_.path(), R"("a": "../elsewhere.safetensors")");
  EXPECT_EQ(dir_error(), index + ": shard '../elsewhere.safetensors' is not a file name in the checkpoint directory");
  write_index(dir_.path(), R"("a": 1)");
  EXPECT_EQ(dir_error(), index + ": weight_map entry 'a' is not a file name");
  write_index(dir_.path(), "");
  EXPECT_EQ(dir_error(), index + ": weight_map is empty");
  io_test::write_bytes(dir_ / "model.safetensors.index.json", R"({"metadata": {}})");
  EXPECT_EQ(dir_error(), index + ": missing the 'weight_map' object");
  io_test::write_bytes(dir_ / "model.safetensors.index.json", "{");
  EXPECT_EQ(dir_error(), index + ": not valid JSON");
}

TEST_F(CheckpointReaderTest, HostileShardNamesItsFile) {
  io_test::write_bytes(dir_ / "model.safetensors", "\x02");
  EXPECT_THAT(dir_error(), StartsWith((dir_ / "model.safetensors").string() + ": truncated: the file is 1 bytes"));
}

}  // namespace
}  // namespace slidesparse
