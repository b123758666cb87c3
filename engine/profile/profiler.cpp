#include "profile/profiler.h"

#include <chrono>

namespace convscope::profile {
namespace {

using Clock = std::chrono::steady_clock;

double ns_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::nano>(b - a).count();
}

}  // namespace

ProfileResult profile_plan(runtime::Plan& plan, const ProfileOptions& o) {
  ProfileResult r;
  r.cpu = kernels::cpu_info().model;
  r.isa = kernels::isa_name(plan.isa());
  r.threads = plan.threads();
  auto cancelled = [&] { return o.cancel && o.cancel->load(std::memory_order_relaxed); };
  auto report = [&](double f) {
    if (o.progress) o.progress(std::min(1.0, f));
  };
  const double phase_ns = o.min_seconds * 1e9;
  auto phase_fraction = [&](int runs, double spent_ns) {
    return std::min(static_cast<double>(runs) / o.min_runs, spent_ns / phase_ns);
  };

  // Phase 1: the whole network, as a user of the plan would run it.
  for (int i = 0; i < o.warmup && !cancelled(); ++i) plan.run();
  std::vector<double> whole;
  double spent = 0;
  while (!o.steps_only && !cancelled() && static_cast<int>(whole.size()) < o.max_runs &&
         (static_cast<int>(whole.size()) < o.min_runs || spent < phase_ns)) {
    const auto t0 = Clock::now();
    plan.run();
    const double ns = ns_between(t0, Clock::now());
    whole.push_back(ns);
    spent += ns;
    report(0.5 * phase_fraction(static_cast<int>(whole.size()), spent));
  }
  r.network_ns = summarize(whole);

  if (o.whole_network_only) {
    r.cancelled = cancelled();
    if (!r.cancelled) report(1.0);
    return r;
  }

  // Phase 2: every step timed on its own.
  const std::size_t n = plan.n_steps();
  std::vector<std::vector<double>> per(n);
  spent = 0;
  int runs = 0;
  while (!cancelled() && runs < o.max_runs && (runs < o.min_runs || spent < phase_ns)) {
    const auto start = Clock::now();
    auto t0 = start;
    for (std::size_t s = 0; s < n; ++s) {
      if (plan.step(s).no_work) continue;  // not timed: median 0
      plan.run_step(s);
      const auto t1 = Clock::now();
      per[s].push_back(ns_between(t0, t1));
      t0 = t1;
    }
    spent += ns_between(start, t0);
    ++runs;
    report(o.steps_only ? phase_fraction(runs, spent) : 0.5 + 0.5 * phase_fraction(runs, spent));
  }
  r.step_ns.reserve(n);
  for (auto& samples : per) {
    r.step_ns.push_back(summarize(std::move(samples)));
    r.sum_of_step_medians_ns += r.step_ns.back().median;
  }
  r.cancelled = cancelled();
  if (!r.cancelled) report(1.0);
  return r;
}

void fill_timing_inputs(runtime::Plan& plan) {
  for (std::size_t i = 0; i < plan.n_inputs(); ++i) {
    float* x = plan.input(i);
    const std::int64_t n = plan.batch() * plan.input_shape(i).elements();
    for (std::int64_t k = 0; k < n; ++k) x[k] = static_cast<float>((k * 7919) % 2001) / 1000.f - 1.f;
  }
}

}  // namespace convscope::profile
