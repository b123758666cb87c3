#include "profile/core_traffic.h"

#include "profile/calibration.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>

namespace convscope::profile {
namespace {

using runtime::ThreadSplit;

/// Who holds a stretch of the arena: the thread that wrote it last (kNobody
/// before any step wrote it, kEveryone when threads wrote a column range of
/// each pixel), the threads that read it since, and when a step last touched
/// it (the bytes every step before that one moved, counted from the first run's
/// start; never touched: -infinity).
constexpr int kNobody = -1, kEveryone = -2;
struct Holder {
  int writer = kNobody;
  std::uint64_t readers = 0;  ///< bit t % 64: thread t read it since it was written
  double touched = -std::numeric_limits<double>::infinity();
};

/// The arena as stretches of floats, each with its holder; a stretch runs from
/// its key to the next key.
class Arena {
 public:
  Arena(int threads, std::int64_t floats) : t_(threads) { map_[0] = Holder{}; map_[std::max<std::int64_t>(floats, 1)]; }

  /// Thread t reads floats [lo, hi), `density` of them the value's own.
  /// Returns the bytes it fetched from another core.
  double read(std::int64_t lo, std::int64_t hi, double density, int t) {
    double foreign = 0;
    for (auto it = cut(lo, hi); it->first < hi; ++it) {
      Holder& h = it->second;
      const double bytes = 4.0 * density * static_cast<double>(std::next(it)->first - it->first);
      if ((h.readers & bit(t)) == 0) foreign += bytes * others_share(h.writer, t);
      h.readers |= bit(t);
      h.touched = now_;
    }
    return foreign;
  }

  /// Thread t writes `share` of floats [lo, hi) (1: all of them; 1 / threads:
  /// its column range of each pixel, with every other thread writing the rest).
  /// Returns the bytes it wrote over lines another core held.
  double write(std::int64_t lo, std::int64_t hi, double density, int t, double share) {
    double foreign = 0;
    for (auto it = cut(lo, hi); it->first < hi; ++it) {
      const Holder& h = it->second;
      const double bytes = 4.0 * density * share * static_cast<double>(std::next(it)->first - it->first);
      foreign += bytes * ((h.readers & ~bit(t)) != 0 ? 1.0 : others_share(h.writer, t));
    }
    return foreign;
  }

  /// The elements of floats [lo, hi) (`density` of them the value's own) that
  /// no step touched within the last `bytes` of traffic: a cache of that size
  /// lost their lines, and writing them fetches each line first.
  double lost(std::int64_t lo, std::int64_t hi, double density, double bytes) {
    double out = 0;
    for (auto it = cut(lo, hi); it->first < hi; ++it)
      if (now_ - it->second.touched > bytes) out += density * static_cast<double>(std::next(it)->first - it->first);
    return out;
  }

  /// After the writes of a step: [lo, hi) held by `writer` alone.
  void written(std::int64_t lo, std::int64_t hi, int writer) {
    if (lo >= hi) return;
    auto first = cut(lo, hi);
    map_.erase(std::next(first), map_.find(hi));
    first->second = Holder{writer, writer >= 0 ? bit(writer) : std::uint64_t{0}, now_};
  }

  /// The step that runs next starts after `bytes` more of traffic.
  void advance(double bytes) { now_ += bytes; }

 private:
  static std::uint64_t bit(int t) { return std::uint64_t{1} << static_cast<unsigned>(t % 64); }
  /// The share of a stretch written by `writer` that lies in another core than t's.
  [[nodiscard]] double others_share(int writer, int t) const {
    if (writer == kEveryone) return static_cast<double>(t_ - 1) / static_cast<double>(t_);
    return writer >= 0 && writer != t ? 1.0 : 0.0;
  }
  /// Makes lo and hi stretch boundaries; the stretch that starts at lo.
  std::map<std::int64_t, Holder>::iterator cut(std::int64_t lo, std::int64_t hi) {
    split_at(hi);
    return split_at(lo);
  }
  std::map<std::int64_t, Holder>::iterator split_at(std::int64_t x) {
    auto it = map_.upper_bound(x);
    --it;  // the stretch holding x (the map starts at 0, x >= 0)
    if (it->first == x) return it;
    return map_.emplace_hint(std::next(it), x, it->second);
  }

  int t_;
  double now_ = 0;
  std::map<std::int64_t, Holder> map_;
};

/// Floats [lo, hi) of the arena a value spans, and the share of them its own
/// (a value written into a concat's buffer interleaves with its siblings).
struct Span {
  std::int64_t lo = 0, hi = 0, pixels = 0, stride = 0;
  double density = 1;
  /// Floats of pixels [p0, p1).
  [[nodiscard]] std::pair<std::int64_t, std::int64_t> at(std::int64_t p0, std::int64_t p1) const {
    return {lo + p0 * stride, lo + p1 * stride};
  }
};

Span span_of(const runtime::Schedule& s, int v) {
  const runtime::ScheduledValue& val = s.values[static_cast<std::size_t>(v)];
  const runtime::ScheduledValue& home = val.parent >= 0 ? s.values[static_cast<std::size_t>(val.parent)] : val;
  Span sp;
  sp.pixels = s.batch * val.shape.h * val.shape.w;
  sp.stride = runtime::pixel_stride(s.values, v);
  sp.lo = home.offset;
  sp.hi = sp.lo + sp.pixels * sp.stride;
  sp.density = static_cast<double>(val.shape.c) / static_cast<double>(std::max<std::int64_t>(sp.stride, 1));
  return sp;
}

}  // namespace

std::vector<CoreTraffic> core_traffic(const runtime::Schedule& s) {
  std::vector<CoreTraffic> out(s.steps.size());
  const int n = s.threads;
  Arena arena(n, s.arena_floats);
  std::vector<double> reads(static_cast<std::size_t>(n)), writes(static_cast<std::size_t>(n));
  for (int pass = 0; pass < 2; ++pass)  // the first run leaves the state the second starts from
    for (std::size_t i = 0; i < s.steps.size(); ++i) {
      const runtime::ScheduledStep& st = s.steps[i];
      if (st.info.no_work) continue;
      const ThreadSplit split = s.thread_split(i);
      std::fill(reads.begin(), reads.end(), 0.0);
      std::fill(writes.begin(), writes.end(), 0.0);
      const Span o = span_of(s, st.out);
      double copied_c = 0;  // a concat's channels not written into it in place
      // Rows: what each thread runs of the step (Schedule::row_parts): its output
      // pixels, the input rows its windows read (halos a neighbour wrote
      // included), the same pixels of a pixel-aligned input, all of a one-pixel
      // input (a channel scale's scales); columns: every thread all of it.
      std::vector<std::vector<runtime::PixelPart>> parts;
      if (split == ThreadSplit::Rows)
        for (int t = 0; t < n; ++t) parts.push_back(s.row_parts(i, t));
      for (std::size_t k = 0; k < st.in.size(); ++k) {
        const int v = st.in[k];
        const runtime::ScheduledValue& val = s.values[static_cast<std::size_t>(v)];
        if (val.parent == st.out) continue;  // written in place: not read
        copied_c += static_cast<double>(val.shape.c);
        const Span sp = span_of(s, v);
        for (int t = 0; t < (split == ThreadSplit::One ? 1 : n); ++t) {
          auto& read = reads[static_cast<std::size_t>(t)];
          if (split != ThreadSplit::Rows || sp.pixels <= 1) {
            read += arena.read(sp.lo, sp.hi, sp.density, t);
            continue;
          }
          for (const runtime::PixelPart& p : parts[static_cast<std::size_t>(t)]) {
            // The first input as the windows read it; another of the output's
            // pixels, pixel for pixel (an add's second operand); else in proportion.
            auto [p0, p1] = k == 0 ? std::pair{p.in0, p.in1} : std::pair{p.out0, p.out1};
            if (k > 0 && sp.pixels != o.pixels) {
              p0 = p.out0 * sp.pixels / o.pixels;
              p1 = p.out1 * sp.pixels / o.pixels;
            }
            const auto [lo, hi] = sp.at(p0, p1);
            read += arena.read(lo, hi, sp.density, t);
          }
        }
      }
      // A concat writes only the channels it copies; the stretch is then marked
      // as its writers' whole (the arena's stretches do not follow channels).
      const double out_density =
          st.info.kind == runtime::StepKind::Concat ? copied_c / static_cast<double>(o.stride) : o.density;
      const double out_l2_lost = arena.lost(o.lo, o.hi, out_density, kL2FitBytes);
      const double out_l3_lost = arena.lost(o.lo, o.hi, out_density, kL3FitBytes);
      for (int t = 0; t < (split == ThreadSplit::One ? 1 : n); ++t) {
        auto& written = writes[static_cast<std::size_t>(t)];
        if (split != ThreadSplit::Rows) {
          written += arena.write(o.lo, o.hi, out_density, t, split == ThreadSplit::Columns ? 1.0 / n : 1.0);
          continue;
        }
        for (const runtime::PixelPart& p : parts[static_cast<std::size_t>(t)]) {
          const auto [lo, hi] = o.at(p.out0, p.out1);
          written += arena.write(lo, hi, out_density, t, 1.0);
        }
      }
      if (split == ThreadSplit::Rows)
        for (int t = 0; t < n; ++t)
          for (const runtime::PixelPart& p : parts[static_cast<std::size_t>(t)]) {
            const auto [lo, hi] = o.at(p.out0, p.out1);
            arena.written(lo, hi, t);
          }
      else
        arena.written(o.lo, o.hi, split == ThreadSplit::One ? 0 : kEveryone);
      arena.advance(static_cast<double>(st.info.bytes));
      if (pass == 1)
        out[i] = {*std::max_element(reads.begin(), reads.end()), *std::max_element(writes.begin(), writes.end()),
                  out_l2_lost, out_l3_lost};
    }
  return out;
}

}  // namespace convscope::profile
