#include "profile/fusion_choice.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>

#include "io/graph_json.h"
#include "kernels/cpu.h"
#include "profile/calibration.h"
#include "profile/latency_calibration.h"
#include "profile/profiler.h"
#include "profile/stats.h"
#include "runtime/plan.h"

namespace convscope::profile {

std::string FusionSetting::str() const {
  switch (mode) {
    case Mode::Auto:
      return "auto";
    case Mode::Off:
      return "off";
    case Mode::Rows:
      return "rows";
    case Mode::Slices:
      return "slices " + std::to_string(slices);
  }
  return "auto";
}

Result<FusionSetting> parse_fusion(std::string_view text) {
  FusionSetting s;
  if (text == "auto") return s;
  if (text == "off" || text == "0") {
    s.mode = FusionSetting::Mode::Off;
    return s;
  }
  if (text == "rows") {
    s.mode = FusionSetting::Mode::Rows;
    return s;
  }
  std::int64_t t = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), t);
  if (ec != std::errc() || end != text.data() + text.size() || t < 1 || t > (1 << 20))
    return fail("--fuse-bottleneck",
                "expected auto, off, rows or a slice count from 1 to 1048576, got '" + std::string(text) + "'");
  s.mode = FusionSetting::Mode::Slices;
  s.slices = t;
  return s;
}

std::string FusionChoice::summary() const {
  std::string out = setting.str();
  const std::string of = std::to_string(fused) + " of " + std::to_string(candidates) + " blocks fused";
  switch (setting.mode) {
    case FusionSetting::Mode::Auto:
      if (candidates == 0) return out + ": no block to fuse";
      if (!model_used) return out + " (no latency model: every block op by op)";
      if (measured == 0)
        out += " (latency model): ";
      else if (measured == candidates)
        out += " (measured on this machine): ";
      else
        out += " (measured on this machine for " + std::to_string(measured) + ", latency model for " +
               std::to_string(candidates - measured) + "): ";
      out += of + " in row bands";
      if (fused > 0) {
        char buf[64];
        std::snprintf(buf, sizeof buf, ", predicted %.3f ms faster", (predicted_unfused_ns - predicted_ns) / 1e6);
        out += buf;
      }
      return out;
    case FusionSetting::Mode::Off:
      return out + ": every block op by op";
    case FusionSetting::Mode::Rows:
      return out + ": " + of + " in row bands";
    case FusionSetting::Mode::Slices:
      out += ": " + of + " over " + std::to_string(setting.slices) + " channel slices";
      if (fused < candidates)
        out += " (the others fuse in row bands only: grouped, shuffled, or without an expand or a project)";
      return out;
  }
  return out;
}

std::string chain_key(const runtime::BottleneckShape& b, std::int64_t batch) {
  const auto shape = [](const ir::Shape& x) {
    return std::to_string(x.h) + "x" + std::to_string(x.w) + "x" + std::to_string(x.c);
  };
  const auto act = [](ir::Activation a) { return std::to_string(static_cast<int>(a)); };
  std::string k = "in " + std::to_string(b.cin) + (b.expand >= 0 ? " expand" : "") + " " + shape(b.mid_in) + " dw " +
                  std::to_string(b.dw_op.k_h) + "x" + std::to_string(b.dw_op.k_w) + "/" +
                  std::to_string(b.dw_op.stride) + " pad " + std::to_string(b.dw_op.pad) + " dil " +
                  std::to_string(b.dw_op.dilation) + " -> " + shape(b.mid_out) + " out " + std::to_string(b.cout);
  k += (b.project >= 0 ? " project" : "") + std::string(b.shortcut ? " shortcut" : "");
  k += " groups " + std::to_string(b.expand_groups) + "/" + std::to_string(b.project_groups) + " shuffles " +
       std::to_string(b.shuffle1) + "/" + std::to_string(b.shuffle2);
  k += " act " + act(b.act_expand) + "/" + act(b.act_dw) + "/" + act(b.act_out) + " batch " + std::to_string(batch);
  return k;
}

std::filesystem::path fusion_cache_path() { return latency_cache_path().parent_path() / "fusion-choices.json"; }

namespace {

nlohmann::json read_forms_file() {
  std::ifstream in(fusion_cache_path());
  if (!in) return nlohmann::json::object();
  try {
    nlohmann::json j = nlohmann::json::parse(in);
    return j.is_object() ? j : nlohmann::json::object();
  } catch (const nlohmann::json::exception&) {
    return nlohmann::json::object();  // damaged: measured again when asked
  }
}

/// One entry's forms at this kernel revision (none when stale or malformed).
std::map<std::string, MeasuredForm> forms_of(const nlohmann::json& entry) {
  std::map<std::string, MeasuredForm> out;
  if (!entry.is_object() || entry.value("kernel_revision", -1) != kernels::kKernelRevision ||
      !entry.contains("blocks") || !entry["blocks"].is_object())
    return out;
  for (const auto& [key, v] : entry["blocks"].items()) {
    if (!v.is_object() || !v.contains("fused_ns") || !v.contains("unfused_ns") || !v["fused_ns"].is_number() ||
        !v["unfused_ns"].is_number())
      continue;
    const MeasuredForm f{v["fused_ns"].get<double>(), v["unfused_ns"].get<double>()};
    if (f.fused_ns > 0 && f.unfused_ns > 0) out[key] = f;
  }
  return out;
}

/// The file as last read (measured_forms runs on every keystroke's prediction):
/// read again when its path, time or size changes, or after a save here.
struct FormsFile {
  std::mutex mu;
  std::filesystem::path path;
  std::filesystem::file_time_type stamp;
  std::uintmax_t size = 0;
  bool valid = false;
  nlohmann::json all;
};
FormsFile& forms_file() {
  static FormsFile f;
  return f;
}

}  // namespace

std::map<std::string, MeasuredForm> measured_forms(const std::string& isa, int threads) {
  FormsFile& f = forms_file();
  const std::lock_guard<std::mutex> lock(f.mu);
  const std::filesystem::path path = fusion_cache_path();
  std::error_code ec, ec2;
  const auto stamp = std::filesystem::last_write_time(path, ec);
  const auto size = std::filesystem::file_size(path, ec2);
  if (ec || ec2) return {};
  if (!f.valid || path != f.path || stamp != f.stamp || size != f.size) {
    f.all = read_forms_file();
    f.path = path;
    f.stamp = stamp;
    f.size = size;
    f.valid = true;
  }
  const std::string key = machine_cache_key(isa, threads);
  return f.all.contains(key) ? forms_of(f.all[key]) : std::map<std::string, MeasuredForm>{};
}

Result<bool> save_measured_forms(const std::string& isa, int threads,
                                 const std::map<std::string, MeasuredForm>& forms) {
  nlohmann::json all = read_forms_file();
  const std::string key = machine_cache_key(isa, threads);
  nlohmann::json blocks = nlohmann::json::object();
  if (all.contains(key))
    for (const auto& [k, f] : forms_of(all[key])) blocks[k] = {{"fused_ns", f.fused_ns}, {"unfused_ns", f.unfused_ns}};
  for (const auto& [k, f] : forms) blocks[k] = {{"fused_ns", f.fused_ns}, {"unfused_ns", f.unfused_ns}};
  all[key] = {{"kernel_revision", kernels::kKernelRevision}, {"measured_at", now_iso()}, {"blocks", blocks}};
  std::error_code ec;
  std::filesystem::create_directories(fusion_cache_path().parent_path(), ec);
  auto written = io::write_file_atomic(fusion_cache_path(), all.dump(1) + "\n");
  FormsFile& f = forms_file();
  const std::lock_guard<std::mutex> lock(f.mu);
  f.valid = false;  // within the file system's clock tick the time alone would not show it
  return written;
}

namespace {

/// Predicted ns per graph node of a schedule's steps.
std::map<int, double> per_node(const runtime::Schedule& s, const LatencyModel& m) {
  std::map<int, double> out;
  const std::vector<StepFeatures> features = schedule_features(s);
  const double tilt = m.footprint_scale(network_footprint(s));  // as LatencyModel::predict(schedule) scales them
  for (std::size_t i = 0; i < s.steps.size(); ++i) out[s.steps[i].info.node] += m.predict(features[i]).ns * tilt;
  return out;
}

}  // namespace

runtime::PlanOptions apply_fusion(const ir::Graph& graph, const cost::Analysis& a, const LatencyModel* model,
                                  const FusionSetting& setting, runtime::PlanOptions base, FusionChoice* choice,
                                  std::optional<runtime::Schedule>* schedule) {
  FusionChoice c;
  c.setting = setting;
  base.split = 0;
  base.fuse_rows = false;
  base.fused_nodes.reset();
  // The chains that can fuse: the bottleneck steps of a schedule that fuses all.
  // On several threads the schedules compared here skip the placement by
  // thread (a step's features barely move with it, and it costs more than the
  // rest of the schedule): the caller builds the one it runs.
  const bool placed_alike = base.threads <= 1 || !base.place_by_thread;
  runtime::PlanOptions all = base;
  all.fuse_rows = true;
  all.place_by_thread = placed_alike && base.place_by_thread;
  auto fused = runtime::Schedule::build(graph, a, all);
  std::vector<int> chains;
  if (fused)
    for (const auto& st : fused->steps)
      if (st.bottleneck) chains.push_back(st.info.node);
  c.candidates = static_cast<int>(chains.size());
  // The schedule of the options returned, where one built here is it: with
  // nothing to fuse, every form schedules alike.
  std::optional<runtime::Schedule> same;
  if (fused && (chains.empty() || setting.mode == FusionSetting::Mode::Rows)) same = std::move(*fused);
  switch (setting.mode) {
    case FusionSetting::Mode::Off:
      break;
    case FusionSetting::Mode::Rows:
      base.fuse_rows = true;
      c.fused = c.candidates;
      break;
    case FusionSetting::Mode::Slices: {
      // Only dense chains with an expand and a project take slices (grouped
      // ones, those with a shuffle, starting at the depthwise or stopping
      // there for squeeze-excite fuse in row bands only): count what fuses.
      base.split = setting.slices;
      runtime::PlanOptions sliced_options = base;
      sliced_options.place_by_thread = all.place_by_thread;
      auto sliced = runtime::Schedule::build(graph, a, sliced_options);
      if (!sliced) break;
      c.fused = static_cast<int>(std::count_if(sliced->steps.begin(), sliced->steps.end(),
                                               [](const runtime::ScheduledStep& st) { return st.bottleneck; }));
      same = std::move(*sliced);
      break;
    }
    case FusionSetting::Mode::Auto: {
      if (!model || chains.empty()) break;
      runtime::PlanOptions none = base;
      none.place_by_thread = all.place_by_thread;
      auto unfused = runtime::Schedule::build(graph, a, none);
      if (!unfused) break;
      c.model_used = true;
      const auto f = per_node(*fused, *model), u = per_node(*unfused, *model);
      // Forms measured on this machine decide where there are some: only
      // beside its own calibrated model (a synthetic or foreign one predicts
      // for another machine).
      const kernels::KernelTable& kt = *fused->kt;
      const bool this_machine = model->cpu == kernels::cpu_info().model && model->isa == kernels::isa_name(kt.isa) &&
                                model->threads == fused->threads;
      const std::map<std::string, MeasuredForm> forms =
          this_machine ? measured_forms(model->isa, model->threads) : std::map<std::string, MeasuredForm>{};
      std::map<int, const MeasuredForm*> measured;
      if (!forms.empty())
        for (const auto& st : fused->steps)
          if (st.bottleneck)
            if (const auto it = forms.find(chain_key(*st.bottleneck, fused->batch)); it != forms.end())
              measured[st.info.node] = &it->second;
      std::vector<int> chosen;
      for (int node : chains) {
        const double fn = f.at(node), un = u.count(node) ? u.at(node) : 0.0;
        const auto m = measured.find(node);
        const bool fuse = m != measured.end() ? m->second->fused_faster() : fn < un * (1.0 - kFusionMargin);
        c.measured += m != measured.end() ? 1 : 0;
        c.predicted_unfused_ns += un;
        c.predicted_ns += fuse ? fn : un;
        if (fuse) chosen.push_back(node);
      }
      c.fused = static_cast<int>(chosen.size());
      if (chosen.empty())
        same = std::move(*unfused);
      else if (chosen.size() == chains.size())
        same = std::move(*fused);
      if (!chosen.empty()) {
        base.fuse_rows = true;
        base.fused_nodes = std::move(chosen);
      }
      break;
    }
  }
  if (choice) *choice = c;
  if (schedule && placed_alike) *schedule = std::move(same);
  return base;
}

double FusionCheck::total_ns(bool fused) const {
  double t = 0;
  for (const auto& b : blocks) t += fused ? b.fused_ns : b.unfused_ns;
  return t;
}

double FusionCheck::auto_ns() const {
  double t = 0;
  for (const auto& b : blocks) t += b.chosen ? b.fused_ns : b.unfused_ns;
  return t;
}

double FusionCheck::best_ns() const {
  double t = 0;
  for (const auto& b : blocks) t += std::min(b.fused_ns, b.unfused_ns);
  return t;
}

Result<FusionCheck> check_fusion(const ir::Graph& graph, const cost::Analysis& a, const LatencyModel& model,
                                 runtime::PlanOptions base, int rounds, int warmup, const std::atomic<bool>* cancel) {
  if (rounds < 1) return fail("rounds", "expected at least 1, got " + std::to_string(rounds));
  FusionCheck out;
  out.rounds = rounds;
  out.threads = base.threads;
  const runtime::PlanOptions chosen = apply_fusion(graph, a, &model, FusionSetting{}, base);
  std::set<int> chosen_nodes;  // auto's fused chains (auto names them whenever it fuses any)
  if (chosen.fused_nodes) chosen_nodes.insert(chosen.fused_nodes->begin(), chosen.fused_nodes->end());
  base.split = 0;
  base.fused_nodes.reset();
  base.fuse_rows = false;
  runtime::PlanOptions rows = base;
  rows.fuse_rows = true;
  std::array<std::optional<runtime::Plan>, 2> plans;  // op by op, in row bands
  for (int k = 0; k < 2; ++k) {
    auto p = runtime::Plan::build(graph, a, k == 0 ? base : rows);
    if (!p) return tl::unexpected(p.error());
    plans[static_cast<std::size_t>(k)].emplace(std::move(*p));
  }
  for (auto& p : plans) fill_timing_inputs(*p);
  using Clock = std::chrono::steady_clock;
  std::array<std::vector<std::vector<double>>, 2> ns;
  for (int k = 0; k < 2; ++k) ns[static_cast<std::size_t>(k)].resize(plans[static_cast<std::size_t>(k)]->n_steps());
  for (int r = 0; r < warmup + rounds; ++r)
    for (int k = 0; k < 2; ++k) {
      if (cancel && cancel->load(std::memory_order_relaxed)) return fail("", "fusion check cancelled");
      runtime::Plan& p = *plans[static_cast<std::size_t>(k)];
      // One untimed run first: the timed steps then find the caches as this
      // form's own previous run leaves them (as a user's repeated runs do), not
      // as the other form's does, and the other plan's idle workers, which spin
      // for 200 us after its last step (thread_pool.cpp), asleep.
      p.run();
      auto t0 = Clock::now();
      for (std::size_t i = 0; i < p.n_steps(); ++i) {
        if (p.step(i).no_work) continue;
        p.run_step(i);
        const auto t1 = Clock::now();
        if (r >= warmup)
          ns[static_cast<std::size_t>(k)][i].push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
        t0 = t1;
      }
    }
  // Each chain fused in row bands, against the steps of its ops run one by one
  // (an imported model's chain spans several graph nodes: matched by op, not node).
  std::vector<std::set<int>> chain_ops;
  for (int k = 1; k >= 0; --k) {
    const runtime::Schedule& s = plans[static_cast<std::size_t>(k)]->schedule();
    const std::vector<StepFeatures> features = schedule_features(s);
    const double tilt = model.footprint_scale(network_footprint(s));
    for (std::size_t i = 0; i < s.steps.size(); ++i) {
      const runtime::StepInfo& info = s.steps[i].info;
      auto& samples = ns[static_cast<std::size_t>(k)][i];
      const double measured = samples.empty() ? 0.0 : summarize(std::move(samples)).median;
      const double predicted = model.predict(features[i]).ns * tilt;
      if (k == 1) {
        if (!s.steps[i].bottleneck) continue;
        BlockFusionCheck b;
        b.node = info.node;
        b.key = chain_key(*s.steps[i].bottleneck, s.batch);
        if (info.node >= 0 && info.node < static_cast<int>(graph.nodes.size()))
          b.name = graph.nodes[static_cast<std::size_t>(info.node)].id;
        b.fused_ns = measured;
        b.predicted_fused_ns = predicted;
        b.chosen = chosen_nodes.count(info.node) > 0;
        out.blocks.push_back(std::move(b));
        chain_ops.emplace_back(info.ops.begin(), info.ops.end());
        continue;
      }
      // Whole steps only: a step that also runs ops of other blocks (a shuffle the
      // chain ends with, folded op by op into the next block's convolution) is theirs.
      if (info.ops.empty()) continue;
      for (std::size_t c = 0; c < chain_ops.size(); ++c)
        if (std::all_of(info.ops.begin(), info.ops.end(), [&](int op) { return chain_ops[c].count(op) > 0; })) {
          out.blocks[c].unfused_ns += measured;
          out.blocks[c].predicted_unfused_ns += predicted;
          break;
        }
    }
  }
  return out;
}

}  // namespace convscope::profile
