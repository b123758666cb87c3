// End-to-end tests of the real convscope-cli binary: output, exit codes, messages.
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

struct CliRun {
  int rc = -1;
  std::string out, err;
};

CliRun run(const std::string& args, const std::string& stdin_text = {}) {
  const fs::path dir = fs::temp_directory_path();
  const fs::path err = dir / ("convscope_cli_err_" + std::to_string(::getpid()));
  const fs::path in = dir / ("convscope_cli_in_" + std::to_string(::getpid()));
  { std::ofstream(in) << stdin_text; }
  const std::string cmd = std::string(CONVSCOPE_CLI) + " " + args + " <" + in.string() + " 2>" + err.string();
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err);
  std::ostringstream ss;
  ss << e.rdbuf();
  r.err = ss.str();
  fs::remove(err);
  fs::remove(in);
  return r;
}

const std::string kPresets = CONVSCOPE_PRESET_DIR;

/// Runs a shell command line; returns its standard output and sets `rc` to its exit status.
std::string capture(const std::string& cmd, int& rc) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    rc = -1;
    return out;
  }
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

TEST(Cli, StatsJsonHasTheContractKeys) {
  CliRun r = run("stats " + kPresets + "/mobilenet_v2.json --format json --convention torchvision");
  ASSERT_EQ(r.rc, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"params", "bn_params", "madds", "flops", "peak_memory_bytes"})
    EXPECT_TRUE(j["totals"].contains(k)) << k;
  EXPECT_EQ(j["totals"]["params"], 3504872);
  EXPECT_EQ(j["convention"]["name"], "torchvision");
  EXPECT_EQ(j["totals"]["flops"], 2 * j["totals"]["madds"].get<std::int64_t>());
  // Every op is listed, and the layers add up to the totals.
  std::int64_t madds = 0;
  for (const auto& l : j["layers"]) madds += l["madds"].get<std::int64_t>();
  EXPECT_EQ(madds, j["totals"]["madds"]);
  EXPECT_GT(j["layers"].size(), 100u);
}

TEST(Cli, StatsTfSlimWithAlphaAndResolution) {
  CliRun r = run("stats mobilenet_v2 --convention tf-slim --alpha 1.4 --resolution 224 --format json");
  ASSERT_EQ(r.rc, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["totals"]["madds"].get<std::int64_t>() / 1000000, 582);
  EXPECT_EQ(j["settings"]["classes"], 1001);
}

TEST(Cli, StatsTableSaysWhichConvention) {
  CliRun r = run("stats " + kPresets + "/squeezenet1_0.json");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("convention: paper"), std::string::npos);
  EXPECT_NE(r.out.find("1,248,424"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fire2"), std::string::npos);
}

TEST(Cli, StatsFormulasWithNumbersAndComplementaryCondition) {
  const fs::path f = fs::temp_directory_path() / "convscope_igc.json";
  {
    std::ofstream(f) << R"({"format": "convscope-graph", "version": 1, "blocks": [
      {"id": "in", "kind": "input", "height": 8, "width": 8, "channels": 64},
      {"id": "igc", "kind": "igcv1", "inputs": ["in"], "out": 64, "primary_groups": 4, "secondary_groups": 32}]})";
  }
  CliRun r = run("stats " + f.string() + " --formulas");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("igc: MAdds = H'*W'*(k^2*(C/L)*N + (N/M)*N) = 8*8*(3^2*(64/4)*64 + (64/32)*64) = 598,016"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("complementary condition: broken"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no path from input channel 32 to output channel 0"), std::string::npos) << r.out;
  fs::remove(f);
}

TEST(Cli, StatsCsvHasOneRowPerOp) {
  CliRun r = run("stats mobilenet_v1 --format csv");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out.rfind("block,kind,op,type,", 0), 0u);
  EXPECT_GT(std::count(r.out.begin(), r.out.end(), '\n'), 50);
}

TEST(Cli, ValidateGoodAndBad) {
  CliRun ok = run("validate " + kPresets + "/mobilenet_v3_small.json");
  EXPECT_EQ(ok.rc, 0) << ok.err;
  EXPECT_NE(ok.out.find(": ok ("), std::string::npos);
  const fs::path bad = fs::temp_directory_path() / "convscope_bad_graph.json";
  {
    std::ofstream(bad) << R"({"format": "convscope-graph", "version": 1, "blocks": [
      {"id": "in", "kind": "input"},
      {"id": "b3", "kind": "inverted_residual", "inputs": ["in"], "expansion": 0}]})";
  }
  CliRun r = run("validate " + bad.string());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find(bad.string() + ": blocks[1].expansion: must be >= 1, got 0"), std::string::npos) << r.err;
  fs::remove(bad);
}

TEST(Cli, MalformedFileExitsTwoWithPosition) {
  CliRun r = run("stats -", "{\"format\": \"convscope-graph\",");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("<stdin>: malformed JSON"), std::string::npos) << r.err;
}

TEST(Cli, MissingFile) {
  CliRun r = run("stats /no/such/file.json");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("/no/such/file.json"), std::string::npos) << r.err;
}

TEST(Cli, UsageErrors) {
  EXPECT_EQ(run("").rc, 2);
  EXPECT_EQ(run("frobnicate").rc, 2);
  CliRun r = run("stats mobilenet_v2 --alpha -1");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--alpha"), std::string::npos) << r.err;
  CliRun c = run("stats mobilenet_v2 --convention nonsense");
  EXPECT_EQ(c.rc, 2);
  EXPECT_NE(c.err.find("unknown convention 'nonsense' (known: paper, torchvision, tf-slim"), std::string::npos)
      << c.err;
  CliRun s = run("compare --in 56x56 --out 64");
  EXPECT_EQ(s.rc, 2);
  EXPECT_NE(s.err.find("expected HxWxC"), std::string::npos) << s.err;
  EXPECT_EQ(run("--help").rc, 0);
}

TEST(Cli, CompareShowsTheClassicRatio) {
  CliRun r = run("compare --in 56x56x64 --out 64 --stride 1 --format json");
  ASSERT_EQ(r.rc, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  std::set<std::string> kinds;
  for (const auto& b : j["blocks"]) {
    kinds.insert(b["kind"].get<std::string>());
    EXPECT_TRUE(b["ok"].get<bool>()) << b.dump();
    if (b["kind"] == "separable") {
      // MAdds ratio to the standard conv equals 1/N + 1/k^2 exactly.
      EXPECT_NEAR(b["madds_ratio"].get<double>(), 1.0 / 64 + 1.0 / 9, 1e-12);
      EXPECT_NEAR(b["paper_ratio"]["value"].get<double>(), 1.0 / 64 + 1.0 / 9, 1e-12);
    }
    if (b["kind"] == "conv") {
      EXPECT_EQ(b["costs"]["madds"], 56 * 56 * 64 * 64 * 9);
    }
  }
  for (const char* k : {"conv", "separable", "fire", "igcv1", "igcv3", "inverted_residual"})
    EXPECT_TRUE(kinds.count(k)) << k;
  CliRun t = run("compare --in 56x56x64 --out 128 --stride 2");
  ASSERT_EQ(t.rc, 0) << t.err;
  EXPECT_NE(t.out.find("1/N + 1/k^2"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("fire"), std::string::npos);  // listed as n/a: no stride
}

TEST(Cli, BlocksListsEveryKindWithParameters) {
  CliRun r = run("blocks --format json");
  ASSERT_EQ(r.rc, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_GE(j.size(), 20u);
  bool found = false;
  for (const auto& b : j)
    if (b["name"] == "inverted_residual") {
      found = true;
      EXPECT_EQ(b["category"], "block");
      bool has_t = false;
      for (const auto& p : b["params"]) has_t |= p["name"] == "expansion";
      EXPECT_TRUE(has_t);
    }
  EXPECT_TRUE(found);
  CliRun t = run("blocks");
  EXPECT_NE(t.out.find("MAdds = h*w*d'*t*(d' + k^2 + d'')"), std::string::npos);
}

TEST(Cli, FormatCheckAndPresets) {
  CliRun f = run("format --check " + kPresets + "/mobilenet_v2.json");
  EXPECT_EQ(f.rc, 0) << f.err;
  CliRun p = run("presets --format json");
  ASSERT_EQ(p.rc, 0) << p.err;
  auto j = nlohmann::json::parse(p.out);
  EXPECT_GE(j.size(), 12u);
  for (const auto& e : j) EXPECT_TRUE(e["complete"].get<bool>()) << e.dump();
}

// Issue 16.5: the block recogniser is a graph pass; format runs it on a graph
// written layer by layer, and the costs stay the same.
TEST(Cli, FormatRecognizesBlocksKeepingTheCosts) {
  const std::string file = std::string(CONVSCOPE_SOURCE_DIR) + "/tests/data/graphs/separable_layers.json";
  CliRun f = run("format --recognize-blocks " + file);
  ASSERT_EQ(f.rc, 0) << f.err;
  EXPECT_NE(f.out.find(R"("kind": "separable")"), std::string::npos) << f.out;
  EXPECT_EQ(f.out.find(R"("kind": "batch_norm")"), std::string::npos) << f.out;
  CliRun before = run("stats --format json " + file);
  CliRun after = run("stats --format json -", f.out);
  ASSERT_EQ(before.rc, 0) << before.err;
  ASSERT_EQ(after.rc, 0) << after.err;
  const auto b = nlohmann::json::parse(before.out), a = nlohmann::json::parse(after.out);
  EXPECT_EQ(a["totals"]["madds"], b["totals"]["madds"]);
  EXPECT_EQ(a["totals"]["params"], b["totals"]["params"]);
  EXPECT_EQ(a["totals"]["madds"].get<std::int64_t>(), 51200);  // 16*16*(9*8 + 8*16)
}

TEST(Cli, ProfileJsonHasNetworkAndLayers) {
  const fs::path cache = fs::temp_directory_path() / "convscope_cli_calibration";
  const std::string env = "CONVSCOPE_CACHE_DIR=" + cache.string() + " ";
  // The env prefix goes before the binary: run() puts the binary first, so use sh.
  const std::string cmd = "sh -c '" + env + CONVSCOPE_CLI +
                          " profile mobilenet_v3_small --resolution 64 --min-time 0.01 --min-runs 3 --json'";
  int rc = 0;
  const std::string out = capture(cmd, rc);
  ASSERT_EQ(rc, 0) << out;
  auto j = nlohmann::json::parse(out);
  for (const char* k : {"median_ms", "min_ms", "p90_ms"}) {
    ASSERT_TRUE(j["network"].contains(k)) << k;
    EXPECT_GT(j["network"][k].get<double>(), 0.0) << k;
  }
  EXPECT_LE(j["network"]["min_ms"].get<double>(), j["network"]["median_ms"].get<double>());
  ASSERT_GT(j["layers"].size(), 10u);
  const auto& l = j["layers"][1];
  for (const char* k : {"madds", "intensity_flops_per_byte", "predicted_ms", "roofline_bound_ms", "median_ms",
                        "measured_over_predicted", "achieved_gflops", "percent_of_peak"})
    EXPECT_TRUE(l.contains(k)) << k;
  EXPECT_FALSE(j["machine"]["isa"].get<std::string>().empty());
  EXPECT_FALSE(j["machine"]["cpu"].get<std::string>().empty());
  // No latency model in this cache yet: profile calibrated one, and predicts with it.
  EXPECT_TRUE(fs::exists(cache / "latency-models.json"));
  const std::string model = j["network"]["model"].get<std::string>();
  EXPECT_EQ(model.rfind("latency model v", 0), 0u) << model;
  EXPECT_NE(model.find(j["machine"]["isa"].get<std::string>() + ", 1 thread"), std::string::npos) << model;
  const double predicted = j["network"]["predicted_ms"].get<double>();
  EXPECT_GT(predicted, 0.0);
  double steps = 0;
  for (const auto& layer : j["layers"]) steps += layer["predicted_ms"].get<double>();
  EXPECT_GT(steps, 0.0);
  // The network factor (whole runs over their steps) is near 1 on a quiet machine; a
  // loaded one measured whole runs up to twice their steps (2026-12-02, two builds beside it).
  EXPECT_GT(predicted / steps, 0.5);
  EXPECT_LT(predicted / steps, 3.0);
  EXPECT_GT(j["network"]["roofline_bound_ms"].get<double>(), 0.0);

  // The accuracy report on one network of our own, with the model just made.
  const fs::path net = cache / "net.json";
  {
    std::ofstream(net) << R"({"format": "convscope-graph", "version": 1, "blocks": [
      {"id": "input", "kind": "input", "height": 56, "width": 56, "channels": 32},
      {"id": "ir", "kind": "inverted_residual", "inputs": ["input"], "out": 32},
      {"id": "sep", "kind": "separable", "inputs": ["ir"], "out": 64, "stride": 2}]})";
  }
  const std::string v = capture(
      "sh -c '" + env + CONVSCOPE_CLI + " calibrate --validate --skip-presets --threads 1 " + net.string() + "'", rc);
  ASSERT_EQ(rc, 0) << v;
  EXPECT_NE(v.find("net.json"), std::string::npos) << v;
  EXPECT_NE(v.find("1 networks: "), std::string::npos) << v;
  EXPECT_NE(v.find("layers: "), std::string::npos) << v;
  // Two passes by default: the machine's own repeatability beside the model's accuracy.
  EXPECT_NE(v.find("the median of 2 passes"), std::string::npos) << v;
  EXPECT_NE(v.find("pass to pass: 1 networks: "), std::string::npos) << v;
  const std::string one = capture("sh -c '" + env + CONVSCOPE_CLI +
                                      " calibrate --validate --skip-presets --threads 1 --passes 1 --json " +
                                      net.string() + "'",
                                  rc);
  ASSERT_EQ(rc, 0) << one;
  const auto oj = nlohmann::json::parse(one);
  ASSERT_EQ(oj.size(), 1u);
  EXPECT_EQ(oj[0]["passes"], 1);
  EXPECT_EQ(oj[0]["summary_pass_to_pass"]["networks"], 0);  // nothing to compare with one pass
  EXPECT_EQ(oj[0]["networks"][0]["measured_ms_per_pass"].size(), 1u);
  // Every layer of the network, named as profile names it, so a miss can be traced.
  const auto& layers = oj[0]["networks"][0]["layers"];
  ASSERT_EQ(layers.size(), oj[0]["networks"][0]["steps"].get<std::size_t>());
  double layer_sum = 0;
  for (const auto& layer : layers) {
    EXPECT_FALSE(layer["name"].get<std::string>().empty());
    EXPECT_FALSE(layer["kind"].get<std::string>().empty());
    EXPECT_GE(layer["predicted_us"].get<double>(), 0.0);
    layer_sum += layer["measured_us"].get<double>();
  }
  EXPECT_GT(layer_sum, 0.0);
  EXPECT_TRUE(oj[0]["by_step_kind"][0]["pass_to_pass_within_25"].is_null());
  EXPECT_NE(run("calibrate --validate --passes 0").err.find("--passes"), std::string::npos);
  // A placement of the cores to wait for: an empty range is refused before anything is timed.
  const CliRun empty = run("calibrate --latency --threads 2 --round-trip-above 300 --round-trip-below 200");
  EXPECT_NE(empty.rc, 0);
  EXPECT_NE(empty.err.find("--round-trip-above 300 must be below --round-trip-below 200"), std::string::npos)
      << empty.err;
  EXPECT_NE(run("calibrate --latency --round-trip-above -5").err.find("--round-trip-above"), std::string::npos);

  // Before any measurement the model chooses, and the table says how to measure instead.
  const std::string before =
      capture("sh -c '" + env + CONVSCOPE_CLI + " profile --threads 1 --min-time 0 --min-runs 1 --warmup 0 " +
                  net.string() + "'",
              rc);
  ASSERT_EQ(rc, 0) << before;
  EXPECT_NE(before.find("bottleneck fusion: auto (latency model): "), std::string::npos) << before;
  EXPECT_NE(before.find("(predicted: `convscope-cli calibrate --fusion " + net.string() + "` times both forms"),
            std::string::npos)
      << before;
  // The fusion check: both fusible blocks (the inverted residual and the separable
  // block) timed fused and op by op, beside the prediction and auto's choice.
  const std::string fc = capture(
      "sh -c '" + env + CONVSCOPE_CLI + " calibrate --fusion --threads 1 --rounds 3 --json " + net.string() + "'", rc);
  ASSERT_EQ(rc, 0) << fc;
  const auto fj = nlohmann::json::parse(fc);
  ASSERT_EQ(fj.size(), 1u);
  EXPECT_EQ(fj[0]["rounds"], 3);
  ASSERT_EQ(fj[0]["blocks"].size(), 2u);
  EXPECT_EQ(fj[0]["blocks"][0]["block"], "ir");
  EXPECT_EQ(fj[0]["blocks"][1]["block"], "sep");
  double fused = 0, op_by_op = 0, best = 0;
  for (const auto& b : fj[0]["blocks"]) {
    for (const char* k : {"measured_fused_us", "measured_op_by_op_us", "predicted_fused_us", "predicted_op_by_op_us"})
      EXPECT_GT(b[k].get<double>(), 0.0) << k;
    const double f = b["measured_fused_us"].get<double>(), o = b["measured_op_by_op_us"].get<double>();
    fused += f;
    op_by_op += o;
    best += std::min(f, o);
    // What auto lost: the form it picked against the faster one, measured.
    EXPECT_NEAR(b["lost_us"].get<double>(), (b["auto"] == "fused" ? f : o) - std::min(f, o), 1e-6);
  }
  EXPECT_NEAR(fj[0]["every_block_fused_ms"].get<double>(), fused / 1e3, 1e-9);
  EXPECT_NEAR(fj[0]["every_block_op_by_op_ms"].get<double>(), op_by_op / 1e3, 1e-9);
  EXPECT_NEAR(fj[0]["each_block_faster_form_ms"].get<double>(), best / 1e3, 1e-9);
  EXPECT_GE(fj[0]["as_auto_chose_ms"].get<double>(), best / 1e3 - 1e-9);
  EXPECT_LE(fj[0]["choices_agreeing"].get<int>(), 2);
  // The measurements are kept: auto then runs both blocks in their faster form here.
  ASSERT_TRUE(fj[0]["saved_to"].is_string()) << fc;
  EXPECT_TRUE(fs::exists(fj[0]["saved_to"].get<std::string>()));
  EXPECT_EQ(fs::path(fj[0]["saved_to"].get<std::string>()).parent_path(), fs::path(cache));
  const std::string pj =
      capture("sh -c '" + env + CONVSCOPE_CLI + " profile --threads 1 --min-time 0 --min-runs 1 --warmup 0 --json " +
                  net.string() + "'",
              rc);
  ASSERT_EQ(rc, 0) << pj;
  const std::string chose = nlohmann::json::parse(pj)["network"]["fusion"].get<std::string>();
  EXPECT_NE(chose.find("auto (measured on this machine): "), std::string::npos) << chose;
  // Measured: the table does not suggest measuring (it does while the model chooses).
  const std::string pt = capture("sh -c '" + env + CONVSCOPE_CLI +
                                     " profile --threads 1 --min-time 0 --min-runs 1 --warmup 0 " + net.string() + "'",
                                 rc);
  ASSERT_EQ(rc, 0) << pt;
  EXPECT_NE(pt.find("bottleneck fusion: auto (measured on this machine): "), std::string::npos) << pt;
  EXPECT_EQ(pt.find("calibrate --fusion"), std::string::npos) << pt;
  const std::string ft = capture(
      "sh -c '" + env + CONVSCOPE_CLI + " calibrate --fusion --threads 1 --rounds 2 --no-save " + net.string() + "'",
      rc);
  ASSERT_EQ(rc, 0) << ft;
  EXPECT_NE(ft.find("1 thread: 2 fusible blocks, 2 rounds"), std::string::npos) << ft;
  EXPECT_NE(ft.find("of 2 blocks"), std::string::npos) << ft;
  EXPECT_EQ(ft.find("saved these measurements"), std::string::npos) << ft;
  EXPECT_NE(run("calibrate --fusion").err.find("give one or more networks"), std::string::npos);
  EXPECT_NE(run("calibrate --fusion --latency mobilenet_v2").err.find("separate runs"), std::string::npos);
  EXPECT_NE(run("calibrate --fusion --rounds 0 mobilenet_v2").err.find("--rounds"), std::string::npos);
  fs::remove_all(cache);
}

TEST(Cli, ProfileRefusesOverTheMemoryLimit) {
  CliRun r = run("profile mobilenet_v2 --resolution 4096 --memory-limit 64");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("over the limit of 67108864"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("largest tensor"), std::string::npos) << r.err;
  CliRun bad = run("profile mobilenet_v2 --fuse-bottleneck rows2");
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.err.find("--fuse-bottleneck: expected auto, off, rows or a slice count from 1 to 1048576, got 'rows2'"),
            std::string::npos)
      << bad.err;
}

TEST(Cli, SweepWritesCsvAndRefusesBadGrids) {
  const fs::path out = fs::temp_directory_path() / "convscope_sweep_test.csv";
  fs::remove(out);
  CliRun r = run("sweep mobilenet_v1 --alpha 0.5,1.0 --resolution 128:224:96 --out " + out.string());
  ASSERT_EQ(r.rc, 0) << r.err;
  std::ifstream in(out);
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header.rfind("alpha,resolution,valid,params,madds", 0), 0u) << header;
  int rows = 0;
  while (std::getline(in, line)) ++rows;
  EXPECT_EQ(rows, 4);
  fs::remove(out);
  CliRun bad = run("sweep squeezenet1_0 --resolution 8,224");
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.err.find("resolution 8 is below this network's minimum of 29"), std::string::npos) << bad.err;
  CliRun table = run("sweep mobilenet_v1 --alpha 0.25,1.0");
  ASSERT_EQ(table.rc, 0) << table.err;
  EXPECT_NE(table.out.find("MAdds/law"), std::string::npos);
}

/// True when Debian's python3 can import torch (scripts/install-deps.sh installs python3-torch).
bool have_torch() { return std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0; }

class PytorchExport : public ::testing::TestWithParam<std::string> {};

TEST_P(PytorchExport, ParameterCountAndOutputShapeMatch) {
  if (!have_torch()) GTEST_SKIP() << "python3-torch is not installed (apt-get install python3-torch)";
  const std::string name = GetParam();
  const fs::path py = fs::temp_directory_path() / ("convscope_export_" + name + ".py");
  CliRun e = run("export " + name + " --to pytorch --out " + py.string());
  ASSERT_EQ(e.rc, 0) << e.err;
  CliRun stats = run("stats " + name + " --convention torchvision --format json");
  ASSERT_EQ(stats.rc, 0) << stats.err;
  const auto j = nlohmann::json::parse(stats.out);
  std::int64_t last_op_c = 0, last_op_h = 0, last_op_w = 0;
  for (const auto& l : j["layers"]) {
    last_op_h = l["output_shape"][0];
    last_op_w = l["output_shape"][1];
    last_op_c = l["output_shape"][2];
  }
  // Runs the generated module: it prints its parameter count and output shape.
  int rc = 0;
  const std::string out = capture("/usr/bin/python3 " + py.string() + " 2>&1", rc);
  ASSERT_EQ(rc, 0) << out;
  const std::string expected = std::to_string(j["totals"]["params"].get<std::int64_t>()) + " (1, " +
                               std::to_string(last_op_c) + ", " + std::to_string(last_op_h) + ", " +
                               std::to_string(last_op_w) + ")";
  EXPECT_NE(out.find(expected), std::string::npos) << "python printed: " << out << "expected: " << expected;
  fs::remove(py);
}

INSTANTIATE_TEST_SUITE_P(Presets, PytorchExport,
                         ::testing::Values("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_0",
                                           "shufflenet_v2_x1_0", "igcv3_d", "mobilenet_seg", "efficientnet_b0",
                                           "googlenet", "igcv2_mobilenet"),
                         [](const auto& p) { return p.param; });

/// A folder of torch's reference files for one model (tests/cli/torch_reference.py); the caller removes it.
fs::path torch_reference(const std::string& model, int batch) {
  const fs::path dir = fs::temp_directory_path() / ("convscope_torch_" + std::to_string(::getpid()));
  int rc = 0;
  const std::string out =
      capture("/usr/bin/python3 " + std::string(CONVSCOPE_SOURCE_DIR) + "/tests/cli/torch_reference.py " + model + " " +
                  std::to_string(batch) + " " + dir.string() + " 2>&1",
              rc);
  EXPECT_EQ(rc, 0) << out;
  return dir;
}

/// The number after `label` in `text` ("max abs error 1.2e-07"), or -1.
double number_after(const std::string& text, const std::string& label) {
  const auto at = text.find(label);
  return at == std::string::npos ? -1.0 : std::stod(text.substr(at + label.size()));
}

class RunMatchesTorch : public ::testing::TestWithParam<std::string> {};

// The issue's acceptance test: a torchvision model exported by torch, its output
// saved by torch, and `run --compare` within 1e-4 (absolute and relative).
TEST_P(RunMatchesTorch, WithinTolerance) {
  if (!have_torch()) GTEST_SKIP() << "python3-torch is not installed (apt-get install python3-torch)";
  const std::string m = GetParam();
  const fs::path dir = torch_reference(m, 2);
  const std::string model = (dir / (m + ".onnx")).string(), ref = (dir / (m + "_out.npy")).string();
  CliRun r = run("run " + model + " -i " + (dir / (m + "_in.npy")).string() + " --layout nchw --compare " + ref);
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("batch 2, NCHW"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("2000 elements"), std::string::npos) << r.out;
  EXPECT_LT(number_after(r.out, "max abs error "), 1e-4) << r.out;
  // The same input in NHWC gives the same logits; two threads and the portable kernels too.
  CliRun nhwc = run("run " + model + " -i " + (dir / (m + "_in_nhwc.npy")).string() +
                    " --layout nhwc --threads 2 --isa portable --compare " + ref);
  EXPECT_EQ(nhwc.rc, 0) << nhwc.out << nhwc.err;
  // The plain reference executor agrees as well.
  CliRun plain =
      run("run " + model + " -i " + (dir / (m + "_in.npy")).string() + " --layout nchw --reference --compare " + ref);
  EXPECT_EQ(plain.rc, 0) << plain.out << plain.err;
  // A tolerance tighter than the error found fails, naming the worst element.
  CliRun strict = run("run " + model + " -i " + (dir / (m + "_in.npy")).string() +
                      " --layout nchw --atol 0 --rtol 0 --compare " + ref);
  EXPECT_EQ(strict.rc, 1) << strict.out;
  EXPECT_NE(strict.out.find("outside tolerance (atol 0, rtol 0); worst at flat index"), std::string::npos)
      << strict.out;
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Torchvision, RunMatchesTorch,
                         ::testing::Values("squeezenet1_1", "mobilenet_v3_small", "efficientnet_b0", "googlenet"),
                         [](const auto& p) { return p.param; });

TEST(CliRun, WritesOutputsAndReadsThemBack) {
  const fs::path dir = fs::temp_directory_path() / ("convscope_run_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // A raw float32 input of the right size: 1x3x64x64 zeros-and-ones.
  {
    std::ofstream raw(dir / "x.f32", std::ios::binary);
    for (int i = 0; i < 3 * 64 * 64; ++i) {
      const float v = static_cast<float>(i % 7) / 7.0f;
      raw.write(reinterpret_cast<const char*>(&v), sizeof v);
    }
  }
  const std::string in = " -i " + (dir / "x.f32").string() + " --input-shape 1x3x64x64 --layout nchw --resolution 64";
  CliRun first = run("run mobilenet_v2" + in + " -o " + (dir / "y.npy").string());
  ASSERT_EQ(first.rc, 0) << first.err;
  EXPECT_NE(first.out.find("output 0  1x1000  written to"), std::string::npos) << first.out;
  // The written .npy is its own reference: the run is deterministic.
  CliRun again = run("run mobilenet_v2" + in + " --atol 0 --rtol 0 --compare " + (dir / "y.npy").string());
  EXPECT_EQ(again.rc, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("max abs error 0,"), std::string::npos) << again.out;
  fs::remove_all(dir);
}

TEST(CliRun, BadInputIsNamedAndExitsTwo) {
  const fs::path dir = fs::temp_directory_path() / ("convscope_runbad_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  { std::ofstream(dir / "short.f32", std::ios::binary) << std::string(100, '\0'); }
  { std::ofstream(dir / "model.onnx", std::ios::binary) << "not a protobuf"; }
  const std::string shortf = (dir / "short.f32").string();
  CliRun raw = run("run mobilenet_v2 -i " + shortf + " --input-shape 1x3x224x224 --layout nchw");
  EXPECT_EQ(raw.rc, 2);
  EXPECT_NE(raw.err.find(shortf), std::string::npos) << raw.err;
  EXPECT_NE(raw.err.find("needs 602112 bytes"), std::string::npos) << raw.err;
  CliRun npy = run("run mobilenet_v2 -i " + shortf + " --layout nchw");
  EXPECT_EQ(npy.rc, 2);
  EXPECT_NE(npy.err.find("not a .npy file"), std::string::npos) << npy.err;
  // An NHWC array given as NCHW: the message says which layout it is.
  { std::ofstream(dir / "nhwc.f32", std::ios::binary) << std::string(4 * 224 * 224 * 3, '\0'); }
  CliRun layout =
      run("run mobilenet_v2 -i " + (dir / "nhwc.f32").string() + " --input-shape 1x224x224x3 --layout nchw");
  EXPECT_EQ(layout.rc, 2);
  EXPECT_NE(layout.err.find("give --layout nhwc"), std::string::npos) << layout.err;
  CliRun shape = run("run mobilenet_v2 -i " + shortf + " --input-shape 1x3x0x224 --layout nchw");
  EXPECT_EQ(shape.rc, 2);
  EXPECT_NE(shape.err.find("--input-shape"), std::string::npos) << shape.err;
  CliRun model = run("run " + (dir / "model.onnx").string() + " -i " + shortf + " --input-shape 1x5x5 --layout nchw");
  EXPECT_EQ(model.rc, 2) << model.err;
  EXPECT_NE(model.err.find("model.onnx"), std::string::npos) << model.err;
  CliRun isa = run("run mobilenet_v2 -i " + shortf + " --input-shape 1x5x5 --layout nchw --isa sse9");
  EXPECT_EQ(isa.rc, 2);
  EXPECT_NE(isa.err.find("sse9"), std::string::npos) << isa.err;
  CliRun no_layout = run("run mobilenet_v2 -i " + shortf);
  EXPECT_EQ(no_layout.rc, 2);
  EXPECT_NE(no_layout.err.find("--layout is required"), std::string::npos) << no_layout.err;
  fs::remove_all(dir);
}

TEST(Cli, CalibrateNamesEachTableItMeasures) {
  const fs::path dir = fs::temp_directory_path() / ("convscope_cal_" + std::to_string(::getpid()));
  const std::string env = "CONVSCOPE_CACHE_DIR=" + dir.string() + " ";
  int rc = 0;
  const std::string out = capture(env + CONVSCOPE_CLI + " calibrate --json --isa portable", rc);
  ASSERT_EQ(rc, 0) << out;
  const auto j = nlohmann::json::parse(out);
  ASSERT_EQ(j["tables"].size(), 1u);
  EXPECT_EQ(j["tables"][0]["isa"], "portable");
  EXPECT_GT(j["tables"][0]["peak_gflops_1"].get<double>(), 0.1);
  EXPECT_TRUE(fs::exists(dir / "calibration.json"));
  CliRun bad = run("calibrate --isa sse9");
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.err.find("kernels 'sse9' are not available on this CPU and build (available: auto"), std::string::npos)
      << bad.err;
  fs::remove_all(dir);
}

// Hostile graph files (issue 12): refused with what and where, never "internal error" or a wrong number.
TEST(CliHostile, GraphFilesAreRefusedWithTheReason) {
  const std::string dir = std::string(CONVSCOPE_SOURCE_DIR) + "/tests/data/hostile_json/";
  CliRun num = run("stats " + dir + "json_number_overflow_1e400.json");
  EXPECT_EQ(num.rc, 2);
  EXPECT_NE(num.err.find("malformed JSON: number overflow parsing '1e400'"), std::string::npos) << num.err;
  CliRun mem = run("stats " + dir + "memory_overflow_peak.json");
  EXPECT_EQ(mem.rc, 1);
  EXPECT_NE(mem.err.find("blocks[0]: tensor 1048576x1048576x1048576 (batch 2) exceeds the tensor size limit"),
            std::string::npos)
      << mem.err;
  EXPECT_NE(mem.out.find("INCOMPLETE"), std::string::npos) << mem.out;  // the 0 B totals are marked as such
  for (const std::string cmd : {"profile", "run"}) {
    const std::string extra = cmd == "run" ? " -i x.npy --layout nchw" : "";
    CliRun big = run(cmd + " " + dir + "profile_export_fc_4TiB_weights.json" + extra);
    if (cmd == "run") {
      EXPECT_EQ(big.rc, 2) << big.err;  // the missing input is found first
      continue;
    }
    EXPECT_EQ(big.rc, 1) << cmd << ": " << big.err;
    EXPECT_NE(big.err.find("over the memory limit of 4096 MiB; largest: op 'fc'"), std::string::npos) << big.err;
  }
  const fs::path onnx = fs::temp_directory_path() / ("convscope_big_" + std::to_string(::getpid()) + ".onnx");
  CliRun exp = run("export " + dir + "profile_export_fc_4TiB_weights.json --to onnx --out " + onnx.string());
  EXPECT_NE(exp.rc, 0);
  EXPECT_NE(exp.err.find("over the memory limit"), std::string::npos) << exp.err;
  EXPECT_FALSE(fs::exists(onnx));
}

// format --in-place keeps what it replaces (issue 12): permissions, symbolic links,
// ONNX models and standard input are not turned into something else; leftovers of
// killed saves are removed.
TEST(CliHostile, FormatInPlaceKeepsWhatItReplaces) {
  const fs::path dir = fs::temp_directory_path() / ("convscope_fmt_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ifstream in(kPresets + "/squeezenet1_1.json");
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    text.erase(std::remove(text.begin(), text.end(), '\n'), text.end());  // not canonical
    std::ofstream(dir / "g.json") << text;
  }
  fs::permissions(dir / "g.json", fs::perms::owner_read | fs::perms::owner_write);
  fs::create_symlink("g.json", dir / "link.json");
  std::ofstream(dir / ".g.json.tmp-abcdef") << "left by a killed save";
  fs::last_write_time(dir / ".g.json.tmp-abcdef", fs::file_time_type::clock::now() - std::chrono::hours(2));
  CliRun r = run("format --in-place " + (dir / "link.json").string());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(dir / "link.json"));
  EXPECT_EQ(fs::status(dir / "g.json").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(run("format --check " + (dir / "g.json").string()).rc, 0);  // canonical now
  EXPECT_FALSE(fs::exists(dir / ".g.json.tmp-abcdef"));
  const fs::path onnx = dir / "m.onnx";
  ASSERT_EQ(run("export squeezenet1_1 --to onnx --out " + onnx.string()).rc, 0);
  const auto size = fs::file_size(onnx);
  CliRun o = run("format --in-place " + onnx.string());
  EXPECT_EQ(o.rc, 2);
  EXPECT_NE(o.err.find("an ONNX model is not rewritten in place"), std::string::npos) << o.err;
  EXPECT_EQ(fs::file_size(onnx), size);
  CliRun in = run("format --in-place -", "{}");
  EXPECT_EQ(in.rc, 2);
  EXPECT_NE(in.err.find("standard input cannot be rewritten in place"), std::string::npos) << in.err;
  EXPECT_FALSE(fs::exists("<stdin>"));
  fs::remove_all(dir);
}

TEST(Cli, ExportDotAndJson) {
  CliRun d = run("export squeezenet1_1 --to dot");
  ASSERT_EQ(d.rc, 0) << d.err;
  EXPECT_EQ(d.out.rfind("digraph \"SqueezeNet 1.1\"", 0), 0u) << d.out.substr(0, 80);
  EXPECT_NE(d.out.find("\"fire2\" -> \"fire3\""), std::string::npos);
  CliRun j = run("export squeezenet1_1 --to json");
  ASSERT_EQ(j.rc, 0) << j.err;
  std::ifstream preset(kPresets + "/squeezenet1_1.json");
  std::ostringstream ss;
  ss << preset.rdbuf();
  EXPECT_EQ(j.out, ss.str());
  CliRun bad = run("export squeezenet1_1 --to onnx");
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.err.find("give --out FILE.onnx"), std::string::npos) << bad.err;
  const fs::path onnx = fs::temp_directory_path() / "convscope_cli_export.onnx";
  CliRun good = run("export squeezenet1_1 --to onnx --out " + onnx.string());
  ASSERT_EQ(good.rc, 0) << good.err;
  EXPECT_GT(fs::file_size(onnx), 4u * 1235496u);  // the weights are in the file
  fs::remove(onnx);
}

TEST(Cli, EveryCommandTakesAnOnnxFile) {
  const fs::path onnx = fs::temp_directory_path() / "convscope_cli_import.onnx";
  ASSERT_EQ(run("export mobilenet_v2 --to onnx --out " + onnx.string()).rc, 0);
  CliRun s = run("stats " + onnx.string() + " --convention torchvision --format json");
  ASSERT_EQ(s.rc, 0) << s.err;
  EXPECT_EQ(nlohmann::json::parse(s.out)["totals"]["params"], 3504872);
  EXPECT_EQ(run("validate " + onnx.string()).rc, 0);
  EXPECT_EQ(run("sweep " + onnx.string() + " --resolution 96,128").rc, 0);
  CliRun bad = run("stats " + (fs::path(CONVSCOPE_PRESET_DIR) / "mobilenet_v2.json").string() + ".onnx");
  EXPECT_EQ(bad.rc, 2);
  fs::remove(onnx);
}

TEST(Cli, InvalidGraphStillPrintsTheValidPartAndExitsOne) {
  CliRun r = run("stats -", R"({"format": "convscope-graph", "version": 1, "blocks": [
      {"id": "in", "kind": "input", "height": 8, "width": 8, "channels": 30},
      {"id": "bad", "kind": "conv", "inputs": ["in"], "groups": 4},
      {"id": "good", "kind": "conv", "inputs": ["in"], "out": 8}]})");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("blocks[1].groups: input channels must be divisible by groups, got 30 and 4"), std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("INCOMPLETE"), std::string::npos);
  EXPECT_NE(r.out.find("good"), std::string::npos);
}

}  // namespace

namespace convscope {
namespace {

TEST(CliCompress, ReportsEveryStageAndTheDrift) {
  CliRun r = run("compress squeezenet1_1 --prune 0.5 --resolution 64 --inputs 2");
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  for (const char* s : {"fire2/squeeze", "conv10/conv", "dense fp32", "pruned", "quantised", "Huffman-coded",
                        "2 random inputs", "top-1 unchanged on"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  CliRun j = run("compress squeezenet1_1 --prune 0.5 --resolution 64 --inputs 0 --format json");
  ASSERT_EQ(j.rc, 0) << j.err;
  EXPECT_NE(j.out.find("\"huffman_bytes\""), std::string::npos);
  EXPECT_EQ(j.out.find("\"drift\""), std::string::npos);  // --inputs 0 runs nothing
}

TEST(CliCompress, BadSettingsNameTheOption) {
  struct Case {
    const char* args;
    const char* says;
  };
  for (const Case& c : {Case{"--prune 1", "prune: must be in [0, 1), got 1.000000"},
                        Case{"--bits conv=17", "conv bits: must be in 1..16, got 17"},
                        Case{"--bits conv=eight", "--bits: expected conv=N,fc=N, got \"conv=eight\""},
                        Case{"--index-bits fc=0", "fc index bits: must be in 1..16, got 0"},
                        Case{"--prune-layer fire2", "--prune-layer: expected ID=RATIO, got \"fire2\""},
                        Case{"--prune-layer nosuch=0.5", "prune-layer nosuch: no convolution or fully connected"}}) {
    CliRun r = run(std::string("compress squeezenet1_1 --inputs 0 ") + c.args);
    EXPECT_EQ(r.rc, 2) << c.args;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.args << ": " << r.err;
  }
}

}  // namespace
}  // namespace convscope
