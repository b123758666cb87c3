#include "profile/latency_model.h"

#include "profile/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

namespace convscope::profile {

using runtime::StepKind;

LatencyModel LatencyModel::per_step(double ns) {
  LatencyModel m;
  m.cpu = m.isa = "none";
  m.measured_at = "never (a fixed cost per step)";
  for (int k = 0; k < runtime::kStepKinds; ++k) {
    const auto kind = static_cast<StepKind>(k);
    const std::size_t n = feature_names(kind, has_weights(kind)).size();
    KindFit& f = m.fits[static_cast<std::size_t>(k)];
    f.coef.assign(n, 0.0);
    f.coef[0] = ns;
    f.lo.assign(n, 0.0);
    f.hi.assign(n, std::numeric_limits<double>::max());
  }
  return m;
}

StepPrediction LatencyModel::predict(const StepFeatures& f) const {
  const KindFit& k = fits[static_cast<std::size_t>(f.kind)];
  StepPrediction p;
  if (k.coef.size() != static_cast<std::size_t>(f.n)) return p;
  p.fitted = true;
  for (int j = 0; j < f.n; ++j)
    p.ns += k.coef[static_cast<std::size_t>(j)] * f.x[static_cast<std::size_t>(j)] *
            (f.cross_core >> j & 1u ? cross_core_scale : 1.0);
  // Extrapolated: a feature outside the calibrated range by more than half
  // again that makes a tenth of the prediction or more. (EfficientNet's
  // squeeze-excite GEMMs fuse a swish over 20-1152 outputs where the probes
  // fused it over 15,360 or more: a few nanoseconds of a 1-7 us step, which
  // marked 32 of its steps.)
  for (int j = 0; j < f.n; ++j) {
    const auto u = static_cast<std::size_t>(j);
    const bool outside = f.x[u] > k.hi[u] * 1.5 || (f.x[u] > 0 && f.x[u] < k.lo[u] / 1.5);
    if (outside && std::abs(k.coef[u] * f.x[u]) >= 0.1 * std::abs(p.ns)) p.extrapolated = true;
  }
  return p;
}

double network_footprint(const runtime::Schedule& s) {
  return 4.0 * static_cast<double>(s.weight_floats + s.arena_floats);
}

double LatencyModel::footprint_scale(double footprint_bytes) const {
  if (footprint_slope == 0 || footprint_bytes <= 0) return 1.0;
  const double x = std::clamp(std::log2(footprint_bytes / (1024.0 * 1024.0)), footprint_log2_lo, footprint_log2_hi);
  return std::max(0.5, 1.0 + footprint_slope * (x - footprint_log2_mid));
}

NetworkPrediction LatencyModel::predict(const runtime::Schedule& s) const {
  NetworkPrediction r;
  r.steps.reserve(s.steps.size());
  const std::vector<StepFeatures> features = schedule_features(s);
  const double tilt = footprint_scale(network_footprint(s));
  double working = 0;
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    if (s.steps[i].info.no_work) {  // skipped by runs
      r.steps.push_back(StepPrediction{0.0, true, false});
      continue;
    }
    StepPrediction p = predict(features[i]);
    p.ns *= tilt;
    r.total_ns += p.ns;
    r.extrapolated += p.extrapolated ? 1 : 0;
    r.unfitted += p.fitted ? 0 : 1;
    r.steps.push_back(p);
    working += 1;
  }
  // The extra per step of a network run on several threads is mostly the hand-offs: cross-core too.
  r.total_ns = r.total_ns * network_factor + network_step_ns * cross_core_scale * working;
  return r;
}

std::string LatencyModel::describe() const {
  std::string placed;
  if (std::abs(cross_core_scale - 1.0) > 0.1) {
    char b[96];
    std::snprintf(b, sizeof b, "; cross-core costs x%.2f (the cores' round trip against the calibration's)",
                  cross_core_scale);
    placed = b;
  }
  return "latency model v" + std::to_string(version) + ", " + cpu + " / " + isa + ", " + std::to_string(threads) +
         (threads == 1 ? " thread, " : " threads, ") + "calibrated " + measured_at + placed;
}

std::string LatencyModel::mismatch(const std::string& cpu_model, const std::string& isa_name, int n_threads) const {
  if (version != kLatencyModelVersion)
    return "it was made by model version " + std::to_string(version) + ", this is version " +
           std::to_string(kLatencyModelVersion);
  if (kernel_revision != kernels::kKernelRevision)
    return "it timed kernel revision " + std::to_string(kernel_revision) + ", these are revision " +
           std::to_string(kernels::kKernelRevision);
  if (cpu != cpu_model) return "it was calibrated on '" + cpu + "', this CPU is '" + cpu_model + "'";
  if (isa != isa_name) return "it timed the " + isa + " kernels, these are " + isa_name;
  if (threads != n_threads)
    return "it was calibrated with " + std::to_string(threads) + " threads, not " + std::to_string(n_threads);
  return "";
}

namespace {
/// The cost of one unit of feature `j` measured by differences: neighbouring
/// one-block probes of a kind whose features differ in `j` alone (the
/// calibration times such pairs back to back, e.g. a convolution with and
/// without a fused swish). Within a pair the machine's speed and every other
/// feature are the same, so the difference is the feature's own cost; in a
/// least-squares fit over networks it is confounded with whatever else the
/// networks that use it have in common (on Zen 5 the fit put a fused swish at
/// 0.39 ns per element, the pairs at 0.16). Nothing when fewer than 5 pairs.
std::optional<double> paired_cost(const std::vector<Sample>& samples, int kind, int j) {
  std::vector<double> d;
  const auto u = static_cast<std::size_t>(j);
  for (std::size_t i = 0; i + 1 < samples.size(); ++i) {
    const Sample &a = samples[i], &b = samples[i + 1];
    if (a.in_network || b.in_network || static_cast<int>(a.f.kind) != kind || a.f.kind != b.f.kind || a.f.n != b.f.n ||
        a.ns <= 0 || b.ns <= 0 || a.f.x[u] == b.f.x[u])
      continue;
    bool alike = true;
    for (std::size_t q = 0; q < static_cast<std::size_t>(a.f.n); ++q) alike = alike && (q == u || a.f.x[q] == b.f.x[q]);
    if (alike) d.push_back((a.ns - b.ns) / (a.f.x[u] - b.f.x[u]));
  }
  if (d.size() < 5) return std::nullopt;
  std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
  return std::max(0.0, d[d.size() / 2]);
}

bool is_madds_feature(StepKind kind, int j) {
  const auto names = feature_names(kind, false);  // the weight features come after these
  const auto u = static_cast<std::size_t>(j);
  return u < names.size() && names[u].find("m*n*k") != std::string::npos;
}

/// The feature of a kind that paired probes measure (a fused exp), or -1.
int paired_feature(StepKind kind) {
  const auto names = feature_names(kind, false);
  for (std::size_t j = 0; j < names.size(); ++j)
    if (names[j].find("swish fused") != std::string::npos) return static_cast<int>(j);
  return -1;
}
}  // namespace

void fit(LatencyModel& m, const std::vector<Sample>& samples) {
  for (int kind = 0; kind < runtime::kStepKinds; ++kind) {
    std::vector<const Sample*> rows, in_networks;
    for (const auto& s : samples)
      if (static_cast<int>(s.f.kind) == kind && s.ns > 0) {
        rows.push_back(&s);
        if (s.in_network) in_networks.push_back(&s);
      }
    // Steps timed inside networks ran where a network runs them (after the step
    // that wrote their input, with worker threads and caches as a run leaves
    // them); one-block probes fill in the kinds and shapes networks lack.
    // On Zen 5 this moved the validation networks within 10 % from 84 to 92 %
    // at one thread and from 21 to 29 % at two.
    // Only when the networks cover every feature the probes do: a shuffle of
    // four groups, say, appears in probes but in no probe network.
    const auto covers_all = [&] {
      for (int j = 0; j < rows.front()->f.n; ++j) {
        const auto u = static_cast<std::size_t>(j);
        const auto uses = [u](const Sample* r) { return r->f.x[u] != 0; };
        if (std::any_of(rows.begin(), rows.end(), uses) && std::none_of(in_networks.begin(), in_networks.end(), uses))
          return false;
      }
      return true;
    };
    if (!rows.empty() && in_networks.size() >= 3 * static_cast<std::size_t>(rows.front()->f.n) && covers_all())
      rows = in_networks;
    KindFit& k = m.fits[static_cast<std::size_t>(kind)];
    k = KindFit{};
    if (rows.empty()) continue;
    const int nf = rows.front()->f.n;
    const auto nr = static_cast<Eigen::Index>(rows.size());
    // Rows weighted by 1 / measured^p: p = 1 would be least squares on the
    // relative error (every step counts alike), p = 0 on the absolute error.
    // p = 3/4 lets the long steps, which make up a network's time, count more
    // while keeping short steps right (on Zen 5 it put 87 to 92 % of the
    // validation networks within 10 %, p = 1 66 to 79 %). Columns scaled to
    // unit norm, so features of very different magnitude (a fixed cost of 1
    // and 10^9 multiply-adds) condition the solve alike.
    constexpr double power = 0.75;
    // A feature measured by paired probes is taken out of the fit: its cost is
    // subtracted from every row and its column left empty.
    const int pj = paired_feature(static_cast<StepKind>(kind));
    double pcost = 0;  // ns per unit of feature pj, when paired probes measured it
    bool pc = false;
    if (pj >= 0)
      if (const auto c = paired_cost(samples, kind, pj)) {
        pcost = *c;
        pc = true;
      }
    // Multiply-add features cost at least what the FMA peak allows: their
    // coefficient is fitted as floor + a non-negative rest. Without the floor a
    // noisy calibration traded the multiply-adds against the weight passes and
    // priced MobileNetV1's large 1x1 convolutions above the peak (125 GFLOP/s
    // against a measured 118 on a Zen 4), 15-25 % too fast.
    std::vector<double> floor(static_cast<std::size_t>(nf), 0.0);
    if (m.peak_gflops > 0)
      for (int j = 0; j < nf; ++j)
        if (is_madds_feature(static_cast<StepKind>(kind), j)) floor[static_cast<std::size_t>(j)] = 2.0 / m.peak_gflops;
    Eigen::MatrixXd a(nr, nf);
    Eigen::VectorXd b(nr);
    for (Eigen::Index r = 0; r < nr; ++r) {
      const Sample& row = *rows[static_cast<std::size_t>(r)];
      const double t = row.ns, w = std::pow(t, -power);
      double rest = pc ? t - pcost * row.f.x[static_cast<std::size_t>(pj)] : t;
      for (int j = 0; j < nf; ++j) rest -= floor[static_cast<std::size_t>(j)] * row.f.x[static_cast<std::size_t>(j)];
      b(r) = rest * w;
      for (int j = 0; j < nf; ++j) a(r, j) = pc && j == pj ? 0.0 : row.f.x[static_cast<std::size_t>(j)] * w;
    }
    Eigen::VectorXd scale(nf);
    for (int j = 0; j < nf; ++j) {
      const double norm = a.col(j).norm();
      scale(j) = norm > 0 ? norm : 1.0;
      a.col(j) /= scale(j);
    }
    // Non-negative: solve, drop the most negative coefficient's feature, solve again.
    std::vector<bool> active(static_cast<std::size_t>(nf));
    for (int j = 0; j < nf; ++j) active[static_cast<std::size_t>(j)] = a.col(j).squaredNorm() > 0;
    Eigen::VectorXd coef = Eigen::VectorXd::Zero(nf);
    for (int round = 0; round < nf; ++round) {
      std::vector<int> cols;
      for (int j = 0; j < nf; ++j)
        if (active[static_cast<std::size_t>(j)]) cols.push_back(j);
      if (cols.empty()) break;
      Eigen::MatrixXd sub(nr, static_cast<Eigen::Index>(cols.size()));
      for (std::size_t c = 0; c < cols.size(); ++c) sub.col(static_cast<Eigen::Index>(c)) = a.col(cols[c]);
      const Eigen::VectorXd sol = sub.colPivHouseholderQr().solve(b);
      coef.setZero();
      int worst = -1;
      for (std::size_t c = 0; c < cols.size(); ++c) {
        coef(cols[c]) = sol(static_cast<Eigen::Index>(c));
        if (sol(static_cast<Eigen::Index>(c)) < 0 && (worst < 0 || sol(static_cast<Eigen::Index>(c)) < coef(worst)))
          worst = cols[c];
      }
      if (worst < 0) break;
      active[static_cast<std::size_t>(worst)] = false;
      coef(worst) = 0;
    }
    for (int j = 0; j < nf; ++j) coef(j) = std::max(0.0, coef(j)) / scale(j) + floor[static_cast<std::size_t>(j)];
    if (pc) coef(pj) = pcost;
    k.coef.assign(coef.data(), coef.data() + nf);
    k.samples = static_cast<int>(rows.size());
    k.lo.assign(static_cast<std::size_t>(nf), 0.0);
    k.hi.assign(static_cast<std::size_t>(nf), 0.0);
    for (int j = 0; j < nf; ++j) {
      double lo = 0, hi = 0;
      for (const Sample* s : rows) {
        const double v = s->f.x[static_cast<std::size_t>(j)];
        hi = std::max(hi, v);
        if (v > 0) lo = lo > 0 ? std::min(lo, v) : v;
      }
      k.lo[static_cast<std::size_t>(j)] = lo;
      k.hi[static_cast<std::size_t>(j)] = hi;
    }
    std::vector<double> err;
    for (const Sample* s : rows) {
      double p = 0;
      for (int j = 0; j < nf; ++j) p += k.coef[static_cast<std::size_t>(j)] * s->f.x[static_cast<std::size_t>(j)];
      err.push_back(std::abs(p / s->ns - 1.0));
    }
    std::nth_element(err.begin(), err.begin() + static_cast<std::ptrdiff_t>(err.size() / 2), err.end());
    k.median_abs_error = err[err.size() / 2];
  }
}

namespace {
double median_of(std::vector<double> v) { return summarize(std::move(v)).median; }

/// Theil-Sen: the median of the slopes between every pair of points whose x
/// differ by more than `min_dx`; nothing without such a pair.
std::optional<double> theil_sen_slope(const std::vector<double>& x, const std::vector<double>& y, double min_dx) {
  std::vector<double> slopes;
  for (std::size_t i = 0; i < y.size(); ++i)
    for (std::size_t j = i + 1; j < y.size(); ++j)
      if (std::abs(x[j] - x[i]) > min_dx) slopes.push_back((y[j] - y[i]) / (x[j] - x[i]));
  if (slopes.empty()) return std::nullopt;
  return median_of(std::move(slopes));
}
}  // namespace

void fit_network(LatencyModel& m, const std::vector<NetworkSample>& networks) {
  std::vector<double> y, x, fp;  // whole / sum, steps / sum, log2 of the footprint in MiB
  for (const auto& n : networks)
    if (n.steps_ns > 0 && n.whole_ns > 0) {
      y.push_back(n.whole_ns / n.steps_ns);
      x.push_back(static_cast<double>(n.steps) / n.steps_ns);
      fp.push_back(n.footprint_bytes > 0 ? std::log2(n.footprint_bytes / (1024.0 * 1024.0)) : 0.0);
    }
  m.network_factor = 1.0;
  m.network_step_ns = 0;
  m.footprint_slope = 0;
  m.footprint_log2_mid = m.footprint_log2_lo = m.footprint_log2_hi = 0;
  if (y.empty()) return;
  // The footprint tilt, from networks whose footprints are known and spread
  // over at least a doubling; relative to the median ratio at the median footprint.
  if (y.size() >= 4 &&
      std::all_of(networks.begin(), networks.end(), [](const auto& n) { return n.footprint_bytes > 0; })) {
    // From the tenth smallest footprint up (a tiny network or two, below what
    // the presets reach, would stretch the tilt down to x0.75) to the largest.
    std::vector<double> sorted = fp;
    std::sort(sorted.begin(), sorted.end());
    const double lo = sorted[sorted.size() / 10], hi = sorted.back();
    if (hi - lo >= 1.0)
      if (const auto slope = theil_sen_slope(fp, y, 0.25)) {
        m.footprint_log2_lo = lo;
        m.footprint_log2_hi = hi;
        m.footprint_log2_mid = median_of(fp);
        m.footprint_slope = std::clamp(*slope / median_of(y), 0.0, 0.2);
        for (std::size_t i = 0; i < y.size(); ++i) y[i] /= m.footprint_scale(std::exp2(fp[i]) * 1024.0 * 1024.0);
      }
  }
  m.network_factor = std::clamp(median_of(y), 0.5, 2.0);
  if (y.size() < 4) return;
  // Theil-Sen: the median of the slopes between every pair of networks, then the
  // median intercept; one network timed during a load burst moves neither.
  const auto step_ns = theil_sen_slope(x, y, 0);
  if (!step_ns) return;
  std::vector<double> intercepts;
  for (std::size_t i = 0; i < y.size(); ++i) intercepts.push_back(y[i] - *step_ns * x[i]);
  const double factor = median_of(std::move(intercepts));
  if (*step_ns < 0 || *step_ns > 20'000 || factor < 0.5 || factor > 2.0) return;
  m.network_factor = factor;
  m.network_step_ns = *step_ns;
}

nlohmann::json to_json(const LatencyModel& m) {
  nlohmann::json fits = nlohmann::json::object();
  for (int kind = 0; kind < runtime::kStepKinds; ++kind) {
    const KindFit& k = m.fits[static_cast<std::size_t>(kind)];
    if (k.coef.empty()) continue;
    fits[std::string(runtime::step_kind_name(static_cast<StepKind>(kind)))] = {
        {"coef", k.coef}, {"lo", k.lo}, {"hi", k.hi}, {"samples", k.samples}, {"median_abs_error", k.median_abs_error}};
  }
  return {{"version", m.version},
          {"kernel_revision", m.kernel_revision},
          {"cpu", m.cpu},
          {"isa", m.isa},
          {"threads", m.threads},
          {"measured_at", m.measured_at},
          {"calibration_seconds", m.calibration_seconds},
          {"probes", m.probes},
          {"network_factor", m.network_factor},
          {"network_step_ns", m.network_step_ns},
          {"footprint_slope", m.footprint_slope},
          {"footprint_log2_mib", {m.footprint_log2_lo, m.footprint_log2_mid, m.footprint_log2_hi}},
          {"peak_gflops", m.peak_gflops},
          {"reference_ns", m.reference_ns},
          {"calibration_drift", m.calibration_drift},
          {"core_round_trip_ns", {m.core_round_trip_ns[0], m.core_round_trip_ns[1]}},
          {"core_round_trip_reference_ns", m.round_trip_ns},
          {"core_round_trip_other_placement_share", m.other_placement_share},
          {"fits", fits}};
}

Result<LatencyModel> latency_model_from_json(const nlohmann::json& j) {
  try {
    LatencyModel m;
    m.version = j.at("version").get<int>();
    m.kernel_revision = j.at("kernel_revision").get<int>();
    m.cpu = j.at("cpu").get<std::string>();
    m.isa = j.at("isa").get<std::string>();
    m.threads = j.at("threads").get<int>();
    m.measured_at = j.at("measured_at").get<std::string>();
    m.calibration_seconds = j.at("calibration_seconds").get<double>();
    m.probes = j.at("probes").get<int>();
    m.network_factor = j.at("network_factor").get<double>();
    if (!std::isfinite(m.network_factor) || m.network_factor < 0.5 || m.network_factor > 2.0)
      return fail("network_factor", "is outside 0.5..2");
    if (m.version != kLatencyModelVersion) return m;  // the caller reports the mismatch
    m.network_step_ns = j.at("network_step_ns").get<double>();
    if (!std::isfinite(m.network_step_ns) || m.network_step_ns < 0 || m.network_step_ns > 20'000)
      return fail("network_step_ns", "is outside 0..20000");
    m.footprint_slope = j.at("footprint_slope").get<double>();
    if (!std::isfinite(m.footprint_slope) || m.footprint_slope < 0 || m.footprint_slope > 0.2)
      return fail("footprint_slope", "is outside 0..0.2");
    const auto fl = j.at("footprint_log2_mib").get<std::vector<double>>();
    if (fl.size() != 3 || !std::all_of(fl.begin(), fl.end(), [](double v) { return std::isfinite(v); }) ||
        fl[0] > fl[1] || fl[1] > fl[2])
      return fail("footprint_log2_mib", "is not three ascending numbers (lowest, median, highest)");
    m.footprint_log2_lo = fl[0];
    m.footprint_log2_mid = fl[1];
    m.footprint_log2_hi = fl[2];
    m.peak_gflops = j.at("peak_gflops").get<double>();
    if (!std::isfinite(m.peak_gflops) || m.peak_gflops < 0) return fail("peak_gflops", "is negative or not finite");
    m.reference_ns = j.at("reference_ns").get<double>();
    m.calibration_drift = j.at("calibration_drift").get<double>();
    if (!std::isfinite(m.reference_ns) || m.reference_ns < 0) return fail("reference_ns", "is negative or not finite");
    if (j.contains("core_round_trip_ns")) {  // absent in models saved before it was measured
      const auto rt = j.at("core_round_trip_ns").get<std::vector<double>>();
      if (rt.size() != 2 || !std::isfinite(rt[0]) || !std::isfinite(rt[1]) || rt[0] < 0 || rt[1] < 0)
        return fail("core_round_trip_ns", "is not two non-negative times (before and after the calibration)");
      m.core_round_trip_ns[0] = rt[0];
      m.core_round_trip_ns[1] = rt[1];
    }
    m.round_trip_ns = j.at("core_round_trip_reference_ns").get<double>();
    if (!std::isfinite(m.round_trip_ns) || m.round_trip_ns < 0)
      return fail("core_round_trip_reference_ns", "is negative or not finite");
    m.other_placement_share = j.value("core_round_trip_other_placement_share", 0.0);  // absent before it was counted
    if (!(m.other_placement_share >= 0 && m.other_placement_share <= 1))
      return fail("core_round_trip_other_placement_share", "is not a share between 0 and 1");
    for (int kind = 0; kind < runtime::kStepKinds; ++kind) {
      const std::string name(runtime::step_kind_name(static_cast<StepKind>(kind)));
      if (!j.at("fits").contains(name)) continue;
      const auto& f = j["fits"][name];
      KindFit& k = m.fits[static_cast<std::size_t>(kind)];
      k.coef = f.at("coef").get<std::vector<double>>();
      k.lo = f.at("lo").get<std::vector<double>>();
      k.hi = f.at("hi").get<std::vector<double>>();
      k.samples = f.at("samples").get<int>();
      k.median_abs_error = f.at("median_abs_error").get<double>();
      // Exactly the kind's features (a kind with weights has the two weight features too).
      const auto sk = static_cast<StepKind>(kind);
      const std::size_t want = feature_names(sk, has_weights(sk)).size();
      if (k.coef.size() != want || k.lo.size() != k.coef.size() || k.hi.size() != k.coef.size())
        return fail("fits." + name, "has " + std::to_string(k.coef.size()) + " coefficients, the model has " +
                                        std::to_string(want) + " features");
      for (double c : k.coef)
        if (!std::isfinite(c) || c < 0) return fail("fits." + name, "a coefficient is negative or not finite");
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    return fail("", std::string("not a latency model: ") + e.what());
  }
}

}  // namespace convscope::profile
