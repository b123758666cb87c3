#include "profile/calibration.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/graph_json.h"

namespace convscope::profile {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// GFLOP/s of the FMA loop on one thread: best of many short timed rounds. The
/// rounds are short (0.5 ms) so that, on a busy machine, most of them run without
/// being descheduled: 10 ms rounds sharing a core with another process read a
/// fraction of the peak, and the kernels' short steps then "beat" it.
double fma_gflops(const kernels::KernelTable& kt, double budget_s) {
  float sink = 0;
  std::int64_t iters = 1 << 12;
  double best = 0;
  const auto start = Clock::now();
  while (seconds_since(start) < budget_s) {
    const auto t0 = Clock::now();
    const double flops = kt.fma_loop(iters, &sink);
    const double s = seconds_since(t0);
    if (s < 0.0005) {
      iters *= 2;
      continue;
    }
    best = std::max(best, flops / s / 1e9);
  }
  return best;
}

double read_gbps(const kernels::KernelTable& kt, std::int64_t floats, double budget_s) {
  std::unique_ptr<float[]> buf(new float[static_cast<std::size_t>(floats)]);
  for (std::int64_t i = 0; i < floats; ++i) buf[static_cast<std::size_t>(i)] = static_cast<float>(i % 7);
  volatile float sink = 0;
  double best = 0;
  int reps = 1;
  const auto start = Clock::now();
  while (seconds_since(start) < budget_s) {
    const auto t0 = Clock::now();
    for (int r = 0; r < reps; ++r) sink = sink + kt.read_sum(buf.get(), floats);
    const double s = seconds_since(t0);
    if (s < 0.005) {
      reps *= 2;
      continue;
    }
    best = std::max(best, static_cast<double>(floats) * 4.0 * reps / s / 1e9);
  }
  return best;
}


nlohmann::json to_json(const Calibration& c) {
  return {{"cpu", c.cpu},
          {"isa", c.isa},
          {"cores", c.cores},
          {"peak_gflops_1", c.peak_gflops_1},
          {"peak_gflops_all", c.peak_gflops_all},
          {"dram_gbps", c.dram_gbps},
          {"l3_gbps", c.l3_gbps},
          {"cache_gbps", c.cache_gbps},
          {"measured_at", c.measured_at}};
}

}  // namespace

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

double Calibration::peak_gflops(int threads) const {
  if (threads <= 1 || cores <= 1) return peak_gflops_1;
  if (threads >= cores) return peak_gflops_all;
  return peak_gflops_1 + (peak_gflops_all - peak_gflops_1) * (threads - 1) / (cores - 1);
}

double Calibration::bandwidth_gbps(double bytes) const {
  if (bytes <= kL2FitBytes) return cache_gbps;
  if (bytes <= kL3FitBytes) return l3_gbps > 0 ? l3_gbps : dram_gbps;
  return dram_gbps;
}

double Calibration::roofline_ns(double flops, double bytes, int threads) const {
  const double compute = flops / std::max(peak_gflops(threads), 1e-9);
  const double memory = bytes / std::max(bandwidth_gbps(bytes), 1e-9);
  return std::max(compute, memory);  // GFLOP/s = FLOP/ns, GB/s = B/ns
}

std::string Calibration::bound(double flops, double bytes, int threads) const {
  const double compute = flops / std::max(peak_gflops(threads), 1e-9);
  const double memory = bytes / std::max(bandwidth_gbps(bytes), 1e-9);
  if (compute >= memory) return "compute";
  return bytes <= kL2FitBytes ? "L2" : (bytes <= kL3FitBytes ? "L3" : "DRAM");
}

Calibration measure(const kernels::KernelTable& kt) {
  Calibration c;
  c.cpu = kernels::cpu_info().model;
  c.isa = kernels::isa_name(kt.isa);
  c.cores = kernels::cpu_info().logical_cpus;
  c.peak_gflops_1 = fma_gflops(kt, 0.4);
  if (c.cores > 1) {
    std::vector<double> each(static_cast<std::size_t>(c.cores));
    std::vector<std::thread> threads;
    for (int t = 0; t < c.cores; ++t)
      threads.emplace_back([&, t] { each[static_cast<std::size_t>(t)] = fma_gflops(kt, 0.4); });
    for (auto& t : threads) t.join();
    for (double v : each) c.peak_gflops_all += v;
  } else {
    c.peak_gflops_all = c.peak_gflops_1;
  }
  c.cache_gbps = read_gbps(kt, 64 * 1024, 0.3);         // 256 KiB
  c.l3_gbps = read_gbps(kt, 2 * 1024 * 1024, 0.4);      // 8 MiB
  c.dram_gbps = read_gbps(kt, 128 * 1024 * 1024, 1.0);  // 512 MiB
  c.measured_at = now_iso();
  return c;
}

std::filesystem::path cache_path() {
  if (const char* d = std::getenv("CONVSCOPE_CACHE_DIR")) return std::filesystem::path(d) / "calibration.json";
  if (const char* x = std::getenv("XDG_CACHE_HOME")) return std::filesystem::path(x) / "convscope" / "calibration.json";
  if (const char* h = std::getenv("HOME"))
    return std::filesystem::path(h) / ".cache" / "convscope" / "calibration.json";
  return std::filesystem::temp_directory_path() / "convscope-calibration.json";
}

Result<Calibration> load_or_measure(const kernels::KernelTable& kt, bool force) {
  const auto path = cache_path();
  const std::string cpu = kernels::cpu_info().model, isa = kernels::isa_name(kt.isa);
  nlohmann::json all = nlohmann::json::object();
  {
    std::ifstream in(path);
    if (in) {
      try {
        all = nlohmann::json::parse(in);
      } catch (const nlohmann::json::exception&) {
        all = nlohmann::json::object();  // a damaged cache is simply measured again
      }
    }
  }
  const std::string key = cpu + " | " + isa;
  if (!force && all.is_object() && all.contains(key)) {
    try {
      const auto& j = all[key];
      Calibration c;
      c.cpu = j.at("cpu").get<std::string>();
      c.isa = j.at("isa").get<std::string>();
      c.cores = j.at("cores").get<int>();
      c.peak_gflops_1 = j.at("peak_gflops_1").get<double>();
      c.peak_gflops_all = j.at("peak_gflops_all").get<double>();
      c.dram_gbps = j.at("dram_gbps").get<double>();
      c.cache_gbps = j.at("cache_gbps").get<double>();
      c.l3_gbps = j.at("l3_gbps").get<double>();
      c.measured_at = j.at("measured_at").get<std::string>();
      if (c.peak_gflops_1 > 0 && c.dram_gbps > 0 && c.cache_gbps > 0 && c.l3_gbps > 0) return c;
    } catch (const nlohmann::json::exception&) {
    }
  }
  Calibration c = measure(kt);
  if (!all.is_object()) all = nlohmann::json::object();
  all[key] = to_json(c);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  // A cache that cannot be written (read-only home) only costs a re-measurement next time.
  (void)io::write_file_atomic(path, all.dump(2) + "\n");
  return c;
}

}  // namespace convscope::profile
