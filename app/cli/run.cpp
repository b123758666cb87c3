// convscope-cli run: the engine on the user's own input. Reads each input from a
// .npy (or raw float32) file in the layout the user names, runs the graph once on
// the SIMD backend (or the reference executor), writes the outputs and compares
// them with a reference the user's framework computed.
#include <cstdio>
#include <iostream>

#include "command.h"
#include "common.h"
#include "io/npy.h"
#include "io/tensor_files.h"
#include "runtime/plan.h"
#include "runtime/reference_executor.h"

namespace convscope::cli {

namespace {
struct Options {
  std::string file, layout, input_shape, isa = "auto";
  std::vector<std::string> inputs, outputs, compares;
  double atol = 1e-4, rtol = 1e-4;
  int threads = 1;
  bool reference = false, fuse = true, winograd = true;
  std::int64_t memory_limit_mb = 4096;
  std::optional<std::int64_t> resolution;
};

/// Reads one input file: .npy, or raw float32 with --input-shape.
Result<io::Array> read_input(const std::string& path, const std::string& shape_text) {
  if (shape_text.empty()) return io::read_npy(path);
  auto shape = io::parse_shape(shape_text);
  if (!shape) return fail("--input-shape", shape.error().front().message);
  return io::read_raw_f32(path, *shape);
}

int run(const Options& o) {
  auto layout = io::parse_layout(o.layout);
  if (!layout) {
    std::cerr << "convscope-cli: --layout: " << layout.error().front().message << "\n";
    return kExitUsage;
  }
  // The inputs first: their batch sets the graph's.
  std::vector<io::Array> arrays;
  for (const auto& path : o.inputs) {
    auto a = read_input(path, o.input_shape);
    if (!a) {
      std::cerr << format_diagnostics(a.error(), "convscope-cli: " + path);
      return kExitUsage;
    }
    arrays.push_back(std::move(*a));
  }
  Source src = open_graph(o.file);
  if (!src.graph) return print_load_error(src);
  ir::Graph g = std::move(*src.graph);
  if (o.resolution) g.settings.resolution = *o.resolution;
  auto a = cost::analyze(g);
  if (!a.complete()) {
    std::cerr << format_diagnostics(a.diagnostics, src.shown);
    return kExitInvalid;
  }
  const auto in_tensors = runtime::input_tensors(a);
  if (arrays.size() != in_tensors.size()) {
    std::cerr << "convscope-cli: " << src.shown << " has " << in_tensors.size() << " input(s), " << arrays.size()
              << " --input given\n";
    return kExitUsage;
  }
  std::int64_t batch = 0;
  for (std::size_t i = 0; i < arrays.size(); ++i) {
    const ir::Shape image = a.tensors[static_cast<std::size_t>(in_tensors[i])].shape;
    auto n = io::batch_of(arrays[i], *layout, image);
    if (!n) {
      std::cerr << "convscope-cli: " << o.inputs[i] << ": " << n.error().front().message << "\n";
      return kExitUsage;
    }
    if (batch != 0 && *n != batch) {
      std::cerr << "convscope-cli: " << o.inputs[i] << ": batch " << *n << " differs from the first input's " << batch
                << "\n";
      return kExitUsage;
    }
    batch = *n;
  }
  if (batch != g.settings.batch) {
    g.settings.batch = batch;
    a = cost::analyze(g);
  }
  if (auto fits = runtime::check_weight_memory(a, o.memory_limit_mb << 20); !fits) {
    std::cerr << format_diagnostics(fits.error(), "convscope-cli: " + src.shown);
    return kExitInvalid;
  }
  const auto weights = runtime::Weights::with_named(g, a, src.weights);

  // Run: the planned SIMD executor, or the reference one.
  std::vector<io::Array> results;
  std::string engine;
  if (o.reference) {
    std::vector<runtime::Tensor> ins;
    for (std::size_t i = 0; i < arrays.size(); ++i) {
      const ir::Shape image = a.tensors[static_cast<std::size_t>(in_tensors[i])].shape;
      ins.emplace_back(batch, image);
      io::to_nhwc(arrays[i], *layout, image, ins.back().data.data());
    }
    const auto all = runtime::run_reference(a, weights, ins);
    for (int t : runtime::output_tensors(a)) {
      const auto& out = all[static_cast<std::size_t>(t)];
      results.push_back(io::from_nhwc(out.data.data(), batch, out.shape, *layout));
    }
    engine = "reference executor";
  } else {
    auto kt = pick_kernels(o.isa);
    if (!kt) return kt.error();
    runtime::PlanOptions po;
    po.threads = o.threads;
    po.kernels = *kt;
    po.weights = &weights;
    po.fuse = o.fuse;
    po.winograd = o.winograd;
    po.memory_limit_bytes = o.memory_limit_mb << 20;
    auto plan = runtime::Plan::build(g, a, po);
    if (!plan) {
      std::cerr << format_diagnostics(plan.error(), "convscope-cli: " + src.shown);
      return kExitInvalid;
    }
    for (std::size_t i = 0; i < arrays.size(); ++i) io::to_nhwc(arrays[i], *layout, plan->input_shape(i), plan->input(i));
    plan->run();
    for (std::size_t i = 0; i < plan->n_outputs(); ++i)
      results.push_back(io::from_nhwc(plan->output(i), batch, plan->output_shape(i), *layout));
    engine = kernels::isa_name(plan->isa()) + " kernels, " + std::to_string(plan->threads()) + " thread(s)";
  }
  std::fprintf(stderr, "%s: batch %lld, %s, %s\n", src.shown.c_str(), static_cast<long long>(batch),
               std::string(io::layout_name(*layout)).c_str(), engine.c_str());

  if (o.outputs.size() > results.size() || o.compares.size() > results.size()) {
    std::cerr << "convscope-cli: " << src.shown << " has " << results.size() << " output(s); "
              << std::max(o.outputs.size(), o.compares.size()) << " files given\n";
    return kExitUsage;
  }
  for (std::size_t i = 0; i < o.outputs.size(); ++i) {
    if (auto w = io::write_array(o.outputs[i], results[i]); !w) {
      std::cerr << format_diagnostics(w.error(), "convscope-cli: " + o.outputs[i]);
      return kExitUsage;
    }
    std::printf("output %zu  %s  written to %s\n", i, results[i].shape_str().c_str(), o.outputs[i].c_str());
  }
  if (o.outputs.empty() && o.compares.empty())
    for (std::size_t i = 0; i < results.size(); ++i)
      std::printf("output %zu  %s  (give --output FILE.npy to save it)\n", i, results[i].shape_str().c_str());

  int rc = 0;
  for (std::size_t i = 0; i < o.compares.size(); ++i) {
    auto ref = io::read_npy(o.compares[i]);
    if (!ref) {
      std::cerr << format_diagnostics(ref.error(), "convscope-cli: " + o.compares[i]);
      return kExitUsage;
    }
    auto c = io::compare_arrays(results[i], *ref, o.atol, o.rtol);
    if (!c) {
      std::cerr << "convscope-cli: --compare " << o.compares[i] << ": " << c.error().front().message << "\n";
      return kExitUsage;
    }
    std::printf("output %zu vs %s: %lld elements, max abs error %.3g, max rel error %.3g; ", i, o.compares[i].c_str(),
                static_cast<long long>(c->elements), c->max_abs, c->max_rel);
    if (c->ok()) {
      std::printf("within tolerance (atol %g, rtol %g)\n", o.atol, o.rtol);
    } else {
      const auto w = static_cast<std::size_t>(c->worst);
      std::printf("%lld outside tolerance (atol %g, rtol %g); worst at flat index %lld: %.7g vs %.7g\n",
                  static_cast<long long>(c->failing), o.atol, o.rtol, static_cast<long long>(c->worst),
                  static_cast<double>(results[i].data[w]), static_cast<double>(ref->data[w]));
      rc = kExitInvalid;
    }
  }
  return rc;
}
}  // namespace

Command add_run(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "run", "run a graph or ONNX model on your input (.npy) and compare its output with your framework's");
  cmd->add_option("FILE", o->file, "graph file, ONNX model (its weights are used) or preset name")->required();
  cmd->add_option("-i,--input", o->inputs, "input array: .npy (float32 or float64), or raw float32 with --input-shape; "
                                           "one per graph input, in order")
      ->required();
  cmd->add_option("--layout", o->layout, "axis order of the inputs and outputs: nchw (PyTorch, ONNX) or nhwc")
      ->required()
      ->check(CLI::IsMember({"nchw", "nhwc"}));
  cmd->add_option("--input-shape", o->input_shape, "shape of raw float32 inputs, e.g. 1x3x224x224");
  cmd->add_option("-o,--output", o->outputs, "write output i to this file (.npy, else raw float32); repeatable");
  cmd->add_option("--compare", o->compares, "reference output .npy to compare output i with; repeatable");
  cmd->add_option("--atol", o->atol, "absolute tolerance of --compare")->check(CLI::Range(0.0, 1e30))->capture_default_str();
  cmd->add_option("--rtol", o->rtol, "relative tolerance of --compare (an element passes when |got - ref| <= atol + "
                                     "rtol * |ref|)")
      ->check(CLI::Range(0.0, 1e30))
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "worker threads")->check(CLI::Range(1, 256))->capture_default_str();
  add_isa_option(cmd, o->isa);
  cmd->add_flag("--reference", o->reference, "run the plain reference executor instead of the SIMD backend");
  cmd->add_flag("!--no-fuse", o->fuse, "run every op as its own step (no conv + BN + activation fusion)");
  cmd->add_flag("!--no-winograd", o->winograd,
                "run 3x3 stride-1 convolutions by the implicit-im2col GEMM, not by Winograd F(4x4, 3x3)");
  cmd->add_option("--resolution", o->resolution, "input height and width of the graph, if not its own")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--memory-limit", o->memory_limit_mb, "refuse plans needing more than this many MiB")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  return {cmd, [o] { return run(*o); }};
}

}  // namespace convscope::cli
