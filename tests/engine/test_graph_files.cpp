// Graph files: every preset loads, validates and round-trips byte for byte;
// saving is atomic.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "io/graph_json.h"
#include "test_util.h"

namespace convscope {
namespace {

namespace fs = std::filesystem;

using testing::preset_names;

class Preset : public ::testing::TestWithParam<std::string> {};

TEST_P(Preset, LoadsValidatesAndRoundTripsByteIdentical) {
  const std::string path = testing::preset_dir() + "/" + GetParam() + ".json";
  const std::string text = testing::read_file(path);
  auto g = io::graph_from_json(text);
  ASSERT_TRUE(g.has_value()) << format_diagnostics(g.error());
  EXPECT_EQ(io::graph_to_json(*g), text) << "preset is not in canonical form: run convscope-cli format -i " << path;
  auto a = cost::analyze(*g);
  EXPECT_TRUE(a.complete()) << format_diagnostics(a.diagnostics);
  EXPECT_GT(a.totals.madds, 0);
  EXPECT_GT(a.totals.params, 0);
  EXPECT_GT(a.memory.peak_bytes, 0);
  EXPECT_FALSE(g->name.empty());
  EXPECT_FALSE(g->description.empty());
}

INSTANTIATE_TEST_SUITE_P(All, Preset, ::testing::ValuesIn(preset_names()), [](const auto& p) { return p.param; });

TEST(Presets, TheIssueListIsThere) {
  const auto names = preset_names();
  for (const char* n :
       {"mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "squeezenet1_0", "squeezenet1_1",
        "squeezenet1_0_bypass", "squeezenet1_1_bypass", "xception", "igcv3_d", "shufflenet_v2_x1_0", "mobilenet_seg",
        "efficientnet_b0", "googlenet", "igcv2_mobilenet"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
}

TEST(Presets, SegmentationNetworkReturnsToFullResolution) {
  ir::Graph g = testing::load_preset("mobilenet_seg");
  auto a = cost::analyze(g);
  ASSERT_TRUE(a.complete()) << format_diagnostics(a.diagnostics);
  const auto& head = testing::node(g, a, "head");
  EXPECT_EQ(head.out, (ir::Shape{224, 224, 21}));
  int transposed = 0, crelu = 0, concat = 0;
  for (const auto& op : a.ops) {
    transposed += op.op.kind == ir::OpKind::ConvTranspose;
    crelu += op.op.kind == ir::OpKind::CReLU;
    concat += op.op.kind == ir::OpKind::Concat;
  }
  EXPECT_EQ(transposed, 5);
  EXPECT_EQ(concat, 5);
  EXPECT_EQ(crelu, 13 + 5);  // every separable pointwise layer
}

TEST(GraphFile, SaveLoadIdenticalWithPositionsAndSettings) {
  ir::Graph g = testing::load_preset("mobilenet_v2");
  g.settings.alpha = 0.75;
  g.settings.resolution = 160;
  g.settings.batch = 4;
  g.nodes[3].pos = std::array<double, 2>{120.5, -40.0};
  g.nodes[4].params["expansion"] = std::int64_t{4};
  const fs::path dir = fs::temp_directory_path() / "convscope_test_files";
  fs::create_directories(dir);
  const fs::path file = dir / "graph.json";
  ASSERT_TRUE(io::save_graph(file, g).has_value());
  auto back = io::load_graph(file);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, g);
  EXPECT_EQ(io::graph_to_json(*back), testing::read_file(file.string()));
  fs::remove_all(dir);
}

// A list parameter (IGCV2's branch sizes) is written as a JSON array; the text
// "16x4" is read as well; anything else is refused naming the block and field.
TEST(GraphFile, ListParametersRoundTripAsArrays) {
  const std::string head = R"({"format": "convscope-graph", "version": 1, "blocks": [{"id": "in", "kind": "input"},
    {"id": "g", "kind": "igcv2", "inputs": ["in"], "branches": )";
  auto g = io::graph_from_json(head + R"("16x4"}]})");
  ASSERT_TRUE(g.has_value()) << format_diagnostics(g.error());
  EXPECT_EQ(std::get<std::string>(g->nodes[1].params.at("branches")), "16,4");
  const std::string text = io::graph_to_json(*g);
  EXPECT_NE(text.find(R"("branches": [16, 4])"), std::string::npos) << text;
  auto back = io::graph_from_json(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(io::graph_to_json(*back), text);
  for (const char* bad : {R"([16, "4"])", "[]", "true", R"("16,-4")"}) {
    auto r = io::graph_from_json(head + bad + "}]}");
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_NE(format_diagnostics(r.error()).find("blocks[1].branches"), std::string::npos)
        << bad << ": " << format_diagnostics(r.error());
  }
}

TEST(GraphFile, AtomicSaveLeavesOldFileOnFailure) {
  const fs::path dir = fs::temp_directory_path() / "convscope_test_atomic";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path file = dir / "keep.json";
  { std::ofstream(file) << "old contents"; }
  // Renaming over a directory fails: the old file and no temporary remain.
  const fs::path target = dir / "sub";
  fs::create_directories(target / "x");
  auto r = io::write_file_atomic(target, "new");
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(testing::read_file(file.string()), "old contents");
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 2);  // keep.json and sub/, no temporary left behind
  // A missing folder is reported, not crashed on.
  auto m = io::write_file_atomic(dir / "missing" / "g.json", "x");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().front().message.find("cannot create a temporary file"), std::string::npos);
  fs::remove_all(dir);
}

TEST(GraphFile, MissingFileMessage) {
  auto g = io::load_graph("/nonexistent/graph.json");
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.error().front().message, "cannot open: No such file or directory");
}

TEST(GraphFile, TruncatedFileIsRefused) {
  const std::string text = testing::read_file(testing::preset_dir() + "/mobilenet_v2.json");
  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, text.size() / 2, text.size() - 3}) {
    auto g = io::graph_from_json(std::string_view(text).substr(0, cut));
    EXPECT_FALSE(g.has_value()) << "cut at " << cut;
  }
}

}  // namespace
}  // namespace convscope
