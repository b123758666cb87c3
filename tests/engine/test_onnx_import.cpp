// ONNX import: our own exports round-trip (same costs, same outputs with the
// imported weights), torchvision's models exported with Debian's python3-torch
// import with torchvision's exact parameter counts and run like ONNX Runtime,
// and bad files get precise messages.
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "io/onnx_consts.h"
#include "io/onnx_export.h"
#include "io/onnx_import.h"
#include "runtime/plan.h"
#include "runtime/reference_executor.h"
#include "runtime/schedule.h"
#include "test_util.h"

namespace convscope {
namespace {

namespace fs = std::filesystem;

double relative_l2(const std::vector<float>& a, const std::vector<float>& b) {
  double d2 = 0, r2 = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    d2 += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    r2 += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(d2 / std::max(r2, 1e-30));
}

/// Outputs of the reference executor on a deterministic input.
std::vector<runtime::Tensor> reference_outputs(const cost::Analysis& a, const runtime::Weights& w) {
  auto all = runtime::run_reference(a, w, testing::random_inputs(a, 3));
  std::vector<runtime::Tensor> outs;
  for (int t : runtime::output_tensors(a)) outs.push_back(all[static_cast<std::size_t>(t)]);
  return outs;
}

std::string export_bytes(const ir::Graph& g) {
  const auto a = cost::analyze(g);
  const auto w = runtime::Weights::generate(g, a, 9);
  auto bytes = io::to_onnx(g, a, w);
  EXPECT_TRUE(bytes.has_value());
  return bytes ? *bytes : std::string();
}

class RoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(RoundTrip, SameCostsAndSameOutputs) {
  ir::Graph g = testing::load_preset(GetParam());
  g.settings.resolution = 64;
  const auto a = cost::analyze(g);
  const auto w = runtime::Weights::generate(g, a, 9);
  auto bytes = io::to_onnx(g, a, w);
  ASSERT_TRUE(bytes.has_value());
  auto m = io::import_onnx_bytes(*bytes, GetParam());
  ASSERT_TRUE(m.has_value()) << format_diagnostics(m.error());
  const auto b = cost::analyze(m->graph);
  ASSERT_TRUE(b.complete()) << format_diagnostics(b.diagnostics);
  EXPECT_EQ(b.totals.madds, a.totals.madds);
  EXPECT_EQ(b.totals.weights, a.totals.weights);
  EXPECT_EQ(b.totals.bn_params, a.totals.bn_params);
  std::size_t used = 0;
  const auto wi = runtime::Weights::with_named(m->graph, b, m->weights, 1, &used);
  EXPECT_EQ(used, m->weights.size()) << "every imported weight must land on an op";
  const auto ours = reference_outputs(a, w);
  const auto back = reference_outputs(b, wi);
  ASSERT_EQ(ours.size(), back.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    ASSERT_EQ(ours[i].shape, back[i].shape);
    EXPECT_LE(relative_l2(back[i].data, ours[i].data), 1e-6) << GetParam();
  }
  // The import runs as the graph it came from: the same steps (a batch norm
  // or activation exported as a node of its own fuses into its convolution).
  auto kinds = [](const ir::Graph& graph, const cost::Analysis& an) {
    std::vector<std::string> out;
    const auto s = runtime::Schedule::build(graph, an);
    EXPECT_TRUE(s.has_value());
    if (s)
      for (const auto& st : s->steps)
        out.push_back(std::string(runtime::step_kind_name(st.info.kind)) + "/" + std::to_string(st.info.ops.size()));
    return out;
  };
  EXPECT_EQ(kinds(m->graph, b), kinds(g, a)) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Presets, RoundTrip, ::testing::ValuesIn(testing::preset_names()),
                         [](const auto& p) { return p.param; });

TEST(OnnxImport, UnsupportedOpsAreListedWithTheirNodes) {
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(export_bytes(testing::load_preset("squeezenet1_1"))));
  for (int i = 0; i < 2; ++i) {
    auto* n = m.mutable_graph()->add_node();
    n->set_op_type("LSTM");
    n->set_name("rnn" + std::to_string(i));
  }
  auto r = io::import_onnx_bytes(m.SerializeAsString(), "bad");
  ASSERT_FALSE(r.has_value());
  const std::string msg = format_diagnostics(r.error());
  EXPECT_NE(msg.find("op LSTM: unsupported (used by nodes["), std::string::npos) << msg;
  EXPECT_NE(msg.find("'rnn0'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'rnn1'"), std::string::npos) << msg;
}

// PyTorch names nodes by module scopes ("/model/model.features/model.features.3/Conv"):
// the ids keep the innermost scope and the op, without the prefix every block shares.
TEST(OnnxImport, ScopedNodeNamesBecomeShortIds) {
  const ir::Graph g = testing::load_preset("squeezenet1_1");
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(export_bytes(g)));
  auto* graph = m.mutable_graph();
  for (int i = 0; i < graph->node_size(); ++i) {
    auto* n = graph->mutable_node(i);
    n->set_name("/model/model.features/model.features." + std::to_string(i) + "/" + n->op_type());
  }
  auto r = io::import_onnx_bytes(m.SerializeAsString(), "scoped");
  ASSERT_TRUE(r.has_value()) << format_diagnostics(r.error());
  bool saw_first_conv = false;
  for (const auto& n : r->graph.nodes) {
    EXPECT_EQ(n.id.find("model"), std::string::npos) << n.id;
    EXPECT_LE(n.id.size(), 24u) << n.id;  // "63_GlobalAveragePool"
    saw_first_conv = saw_first_conv || n.id == "0_Conv";
  }
  EXPECT_TRUE(saw_first_conv);
  const auto a = cost::analyze(g), b = cost::analyze(r->graph);
  ASSERT_TRUE(b.complete()) << format_diagnostics(b.diagnostics);
  EXPECT_EQ(b.totals.params, a.totals.params);
  std::size_t used = 0;
  (void)runtime::Weights::with_named(r->graph, b, r->weights, 1, &used);
  EXPECT_EQ(used, r->weights.size()) << "renamed blocks keep their weights";

  // Without the shared prefix a block would take the input's id: the prefix stays.
  const std::string input = graph->input(0).name();
  for (int i = 0; i < graph->node_size(); ++i)
    graph->mutable_node(i)->set_name(i == 0 ? "p_" + input : "p_n" + std::to_string(i));
  auto kept = io::import_onnx_bytes(m.SerializeAsString(), "clash");
  ASSERT_TRUE(kept.has_value()) << format_diagnostics(kept.error());
  EXPECT_GE(kept->graph.find("p_" + input), 0);
  EXPECT_GE(kept->graph.find(input), 0);
}

// Swish as PyTorch exports SiLU, x * Sigmoid(x), and as ONNX opset 24's Swish op.
TEST(OnnxImport, SwishSpelledOutAndAsOneOp) {
  const ir::Graph g = testing::single_block("activation", {{"function", std::string("swish")}}, {8, 8, 4});
  const std::string bytes = export_bytes(g);
  auto function_of = [](const io::ImportedModel& m) {
    for (const auto& n : m.graph.nodes)
      if (n.kind == "activation") return std::get<std::string>(n.params.at("function"));
    return std::string("(no activation)");
  };
  auto spelled = io::import_onnx_bytes(bytes, "silu");
  ASSERT_TRUE(spelled.has_value()) << format_diagnostics(spelled.error());
  EXPECT_EQ(function_of(*spelled), "swish");
  EXPECT_EQ(spelled->graph.nodes.size(), 2u);  // the input and one activation
  // The same as one Swish node.
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(bytes));
  auto* graph = m.mutable_graph();
  std::string x, y;
  for (const auto& n : graph->node()) {
    if (n.op_type() == "Sigmoid") x = n.input(0);
    if (n.op_type() == "Mul") y = n.output(0);
  }
  ASSERT_FALSE(x.empty() || y.empty());
  onnx::GraphProto rebuilt = *graph;
  rebuilt.clear_node();
  for (const auto& n : graph->node())
    if (n.op_type() != "Sigmoid" && n.op_type() != "Mul") *rebuilt.add_node() = n;
  auto* swish = rebuilt.add_node();
  swish->set_op_type("Swish");
  swish->set_name("swish0");
  swish->add_input(x);
  swish->add_output(y);
  *graph = rebuilt;
  auto one = io::import_onnx_bytes(m.SerializeAsString(), "swish");
  ASSERT_TRUE(one.has_value()) << format_diagnostics(one.error());
  EXPECT_EQ(function_of(*one), "swish");
  // Swish with another alpha is not SiLU: refused, naming the node.
  auto* alpha = graph->mutable_node(graph->node_size() - 1)->add_attribute();
  alpha->set_name("alpha");
  alpha->set_type(onnx::AttributeProto::FLOAT);
  alpha->set_f(2.f);
  auto bad = io::import_onnx_bytes(m.SerializeAsString(), "swish2");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(format_diagnostics(bad.error()).find("'swish0' (Swish): only Swish with alpha = 1 (SiLU) is supported"),
            std::string::npos)
      << format_diagnostics(bad.error());
}

// Constant folding on its own: the shape arithmetic exporters spell out.
TEST(OnnxConsts, FoldsShapeArithmeticAndRefusesWhatOverflows) {
  using io::onnx_consts::Const;
  const auto ints = [](std::vector<std::int64_t> v) {
    Const c;
    c.dims = {static_cast<std::int64_t>(v.size())};
    c.i = std::move(v);
    return c;
  };
  const Const shape = ints({1, 116, 28, 28}), two = ints({2}), idx = ints({1});
  // Gather(shape, 1) / 2 = 58: ShuffleNet's chunk size.
  const auto c = io::onnx_consts::fold("Gather", {&shape, &idx});
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->i, std::vector<std::int64_t>{116});
  const auto half = io::onnx_consts::fold("Div", {&**c, &two});
  ASSERT_TRUE(half && *half);
  EXPECT_EQ((*half)->i, std::vector<std::int64_t>{58});
  // Broadcast of one value over four, and a concatenation.
  EXPECT_EQ((*io::onnx_consts::fold("Mul", {&shape, &two}))->i, (std::vector<std::int64_t>{2, 232, 56, 56}));
  EXPECT_EQ((*io::onnx_consts::fold("Concat", {&two, &idx}))->i, (std::vector<std::int64_t>{2, 1}));
  // Not shape arithmetic: nothing folded, no error.
  const Const out_of_range = ints({7});
  EXPECT_FALSE(*io::onnx_consts::fold("Gather", {&shape, &out_of_range}));
  EXPECT_FALSE(*io::onnx_consts::fold("Relu", {&shape, &two}));
  // Errors say what, for the importer to say where.
  const Const zero = ints({0}), big = ints({INT64_MAX}), three = ints({1, 2, 3});
  EXPECT_EQ(io::onnx_consts::fold("Div", {&two, &zero}).error().front().message, "divides 2 by zero");
  EXPECT_EQ(io::onnx_consts::fold("Add", {&big, &two}).error().front().message,
            "9223372036854775807 Add 2 overflows int64");
  EXPECT_EQ(io::onnx_consts::fold("Sub", {&shape, &three}).error().front().message,
            "shapes of 4 and 3 values do not broadcast");
}

TEST(OnnxImport, DynamicInputShapeIsRefused) {
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(export_bytes(testing::load_preset("squeezenet1_1"))));
  m.mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(0)
      ->set_dim_param("batch_size");
  auto r = io::import_onnx_bytes(m.SerializeAsString(), "dyn");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().front().str(),
            "input 'input': dimension 0 is dynamic ('batch_size'): export the model with a fixed input shape");
}

TEST(OnnxImport, CorruptAndTruncatedFiles) {
  const std::string bytes = export_bytes(testing::load_preset("squeezenet1_1"));
  for (const std::string& bad : {std::string("not a model"), bytes.substr(0, bytes.size() / 3), std::string()}) {
    auto r = io::import_onnx_bytes(bad, "x");
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().front().message.find("not a valid ONNX model"), std::string::npos) << r.error().front().message;
  }
  auto missing = io::import_onnx("/nonexistent/model.onnx");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().front().message.find("cannot open"), std::string::npos);
}

fs::path peers_dir() { return fs::path(CONVSCOPE_SOURCE_DIR) / "bench" / "peers"; }
bool have_ort() {
  return fs::exists(peers_dir() / "node_modules" / "onnxruntime-node") &&
         std::system("node --version >/dev/null 2>&1") == 0;
}

/// The engine, with the imported weights, against ONNX Runtime on the original file.
void expect_same_as_ort(const io::ImportedModel& m, const std::string& path, const std::string& name) {
  const auto a = cost::analyze(m.graph);
  const auto w = runtime::Weights::with_named(m.graph, a, m.weights);
  const auto outs = reference_outputs(a, w);
  // The same input as reference_outputs, written NCHW for ONNX Runtime.
  const std::vector<float> nchw = testing::to_nchw(testing::random_inputs(a, 3).front());
  const fs::path dir = fs::temp_directory_path() / ("convscope_ort_" + name);
  fs::create_directories(dir);
  std::ofstream(dir / "in.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(nchw.data()), static_cast<std::streamsize>(nchw.size() * 4));
  const std::string cmd = "cd " + peers_dir().string() + " && node ort_run.js " + path + " " + (dir / "out").string() +
                          " " + (dir / "in.bin").string() + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << name;
  std::ifstream in(dir / "out0.bin", std::ios::binary);
  std::vector<float> got(static_cast<std::size_t>(fs::file_size(dir / "out0.bin") / 4));
  in.read(reinterpret_cast<char*>(got.data()), static_cast<std::streamsize>(got.size() * 4));
  ASSERT_EQ(got.size(), outs.front().data.size()) << name;  // 1 x classes x 1 x 1 either way
  // ONNX Runtime's output is (1, classes); ours 1x1xclasses: the same order.
  EXPECT_LE(relative_l2(got, outs.front().data), 1e-4) << name << ": the engine and ONNX Runtime disagree";
  // The CPU backend on the model's own weights (batch norms with their real
  // statistics folded across blocks into the convolutions before them).
  runtime::PlanOptions po;
  po.weights = &w;
  po.threads = 2;
  auto plan = runtime::Plan::build(m.graph, a, po);
  ASSERT_TRUE(plan.has_value()) << name;
  const auto input = testing::random_inputs(a, 3).front();
  std::copy(input.data.begin(), input.data.end(), plan->input(0));
  plan->run();
  const std::vector<float> ours(plan->output(0), plan->output(0) + got.size());
  EXPECT_LE(relative_l2(ours, got), 1e-4) << name << ": the CPU backend and ONNX Runtime disagree";
  fs::remove_all(dir);
}

bool have_torch() { return std::system("/usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1") == 0; }

TEST(OnnxImport, TorchvisionModelsKeepTheirExactParameterCounts) {
  if (!have_torch()) GTEST_SKIP() << "python3-torch / python3-torchvision not installed";
  const fs::path dir = fs::temp_directory_path() / ("convscope_tv_" + std::to_string(::getpid()));
  const std::string script = std::string(CONVSCOPE_SOURCE_DIR) + "/bench/peers/export_torchvision.py";
  const fs::path listing = dir / "models.txt";
  fs::create_directories(dir);
  ASSERT_EQ(
      std::system(
          ("/usr/bin/python3 " + script + " " + dir.string() + " > " + listing.string() + " 2>/dev/null").c_str()),
      0);
  std::ifstream in(listing);
  std::string name, path;
  std::int64_t torch_params = 0;
  int models = 0;
  while (in >> name >> torch_params >> path) {
    ++models;
    auto m = io::import_onnx(path);
    ASSERT_TRUE(m.has_value()) << name << ": " << format_diagnostics(m.error());
    cost::AnalysisOptions o;
    o.convention = *cost::find_convention("torchvision");
    const auto a = cost::analyze(m->graph, o);
    ASSERT_TRUE(a.complete()) << name << ": " << format_diagnostics(a.diagnostics);
    EXPECT_EQ(a.totals.params, torch_params) << name;
    // And the same number as ConvScope's own preset of that network.
    EXPECT_EQ(a.totals.params, testing::analyze_preset(name, "torchvision").totals.params) << name;
    // The blocks are recognised in the op-by-op import.
    const std::map<std::string, std::pair<std::string, int>> expected = {
        {"mobilenet_v1", {"separable", 13}},
        {"mobilenet_v2", {"inverted_residual", 17}},
        {"mobilenet_v3_small", {"inverted_residual", 11}},
        {"efficientnet_b0", {"inverted_residual", 16}},
        {"googlenet", {"inception", 9}},
        {"squeezenet1_0", {"fire", 8}},
        {"squeezenet1_1", {"fire", 8}}};
    if (auto it = expected.find(name); it != expected.end()) {
      int found = 0;
      for (const auto& node : m->graph.nodes) found += node.kind == it->second.first;
      EXPECT_EQ(found, it->second.second) << name << ": " << it->second.first << " blocks recognised";
    }
    if (have_ort()) expect_same_as_ort(*m, path, name);
  }
  EXPECT_EQ(models, 9);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace convscope

namespace convscope {
namespace {

// Hostile models (hand-made and found by fuzzing, issue 12): each is refused with
// a message naming the node or input and what is wrong, never a crash, an abort
// or an allocation sized by what the file declares.
TEST(OnnxImportHostile, EveryFileIsRefusedWithAMessage) {
  const std::filesystem::path dir = std::filesystem::path(CONVSCOPE_SOURCE_DIR) / "tests/data/hostile_onnx";
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    auto m = io::import_onnx(e.path());
    ASSERT_FALSE(m.has_value()) << e.path() << " imported";
    const std::string msg = format_diagnostics(m.error());
    EXPECT_TRUE(msg.find("nodes[") != std::string::npos || msg.find("input '") != std::string::npos ||
                msg.find("op ") != std::string::npos)
        << e.path().filename() << ": " << msg;
  }
  EXPECT_GE(files, 40);
}

TEST(OnnxImportHostile, MessagesSayWhatIsWrong) {
  const std::string dir = std::string(CONVSCOPE_SOURCE_DIR) + "/tests/data/hostile_onnx/";
  auto message = [&](const std::string& file) {
    auto m = io::import_onnx(dir + file);
    return m ? std::string("imported") : format_diagnostics(m.error());
  };
  EXPECT_NE(message("onnx_o02_init_truncated_small.onnx").find("has 20 bytes of data, its 216 elements need 864"),
            std::string::npos);
  EXPECT_NE(message("onnx_o01b_init_1e9_truncated_3x3.onnx").find("elements (the import limit)"), std::string::npos);
  EXPECT_NE(message("onnx_o03_external_data.onnx").find("external file, which is not read"), std::string::npos);
  EXPECT_NE(message("onnx_o28_conv_int64_weights.onnx").find("weight tensor 'w' must be float32"), std::string::npos);
  EXPECT_NE(message("onnx_o12_kernel_shape_1.onnx").find("kernel_shape, strides and dilations need 2 values"),
            std::string::npos);
  EXPECT_NE(message("onnx_o18_div_intmin.onnx").find("-9223372036854775808 Div -1 overflows int64"),
            std::string::npos);
  EXPECT_NE(message("onnx_o17_add_overflow.onnx").find("overflows int64"), std::string::npos);
  EXPECT_NE(message("onnx_o15_split_no_outputs.onnx").find("(Split): has no output"), std::string::npos);
  EXPECT_NE(message("onnx_o16_gather_one_input.onnx").find("(Gather): takes 2 inputs, has 1"), std::string::npos);
  EXPECT_NE(message("onnx_o22_fc_huge_dims.onnx").find("(MatMul): weight tensor 'fcw' declares more than"),
            std::string::npos);
  EXPECT_NE(message("onnx_o43_resize_1e30.onnx").find("integer factor (1 to 64)"), std::string::npos);
  EXPECT_NE(message("fuzz_onnx_import_cpp_159.onnx").find("data type UINT8"), std::string::npos);
  // A dilated transposed convolution was imported without its dilation (a wrong network); now refused.
  EXPECT_NE(message("onnx_o44_conv_transpose_dilated.onnx").find("dilations 2 on a ConvTranspose are not supported"),
            std::string::npos)
      << message("onnx_o44_conv_transpose_dilated.onnx");
}

}  // namespace
}  // namespace convscope
