#include "runtime/core_walk.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <tuple>
#include <utility>

namespace convscope::runtime {
namespace {

std::uint64_t bit(int t) { return std::uint64_t{1} << static_cast<unsigned>(t % 64); }

/// The share of a stretch `writer` wrote (a thread, kEveryone or kNobody)
/// that lies in another core's cache than thread t's, of `threads`.
double others_share(int writer, int t, int threads) {
  if (writer == kEveryone) return static_cast<double>(threads - 1) / static_cast<double>(threads);
  return writer >= 0 && writer != t ? 1.0 : 0.0;
}

/// What writing a stale byte costs a memory plan, in bytes written over other
/// cores' lines: a line no step touched within an L3's worth of traffic comes
/// from DRAM before it is written, about as slow (SqueezeNet 1.1's stem ran
/// 20-33 % slower at two threads with 370 KB more of them, where the plan had
/// moved the run's last buffers to the arena's rarely used top); one lost from
/// L2 only, from L3.
constexpr double kStaleL3 = 1.0, kStaleL2 = 0.25;

/// The floats a value spans in its buffer (all of it: a value inside a concat
/// or a slice strides over its siblings' channels) and its pixel stride.
struct Span {
  int root = 0;
  std::int64_t pixels = 0, stride = 0;
  double density = 1;
  [[nodiscard]] Touch at(std::int64_t p0, std::int64_t p1, int t) const {
    return {root, p0 * stride, p1 * stride, density, t, 1.0, t};
  }
};

Span span_of(const Schedule& s, int v) {
  const ScheduledValue& val = s.values[static_cast<std::size_t>(v)];
  Span sp;
  sp.root = root_of(s, v);
  sp.pixels = s.batch * val.shape.h * val.shape.w;
  sp.stride = pixel_stride(s.values, v);
  sp.density = static_cast<double>(val.shape.c) / static_cast<double>(std::max<std::int64_t>(sp.stride, 1));
  return sp;
}

}  // namespace

int root_of(const Schedule& s, int v) {
  const int parent = s.values[static_cast<std::size_t>(v)].parent;
  return parent >= 0 ? parent : v;
}

StepTouches step_touches(const Schedule& s, std::size_t i) {
  const ScheduledStep& st = s.steps[i];
  StepTouches out;
  const Span o = span_of(s, st.out);
  out.out_root = o.root;
  out.out_hi = o.pixels * o.stride;
  out.out_density = o.density;
  out.no_work = st.info.no_work;
  if (out.no_work) return out;
  const int n = s.threads;
  const ThreadSplit split = s.thread_split(i);
  const int busy = split == ThreadSplit::One ? 1 : n;
  // Rows: what each thread runs of the step (Schedule::row_parts): its output
  // pixels, the input rows its windows read (halos a neighbour wrote
  // included), the same pixels of a pixel-aligned input, all of a one-pixel
  // input (a channel scale's scales); columns: every thread all of it.
  // A thread's parts that follow one another (a fused bottleneck's bands, one
  // image's rows) read and write as one stretch: the rows its next part reads
  // are its own, not a halo, and a walk of one touch per thread, not one per
  // band, keeps the placement's search short (Xception at two threads ran up
  // to 147 bands a step).
  std::vector<std::vector<PixelPart>> parts;
  if (split == ThreadSplit::Rows)
    for (int t = 0; t < n; ++t) {
      std::vector<PixelPart> merged;
      for (const PixelPart& p : s.row_parts(i, t))
        if (!merged.empty() && merged.back().out1 == p.out0 && p.in0 <= merged.back().in1 &&
            merged.back().in0 <= p.in0) {
          merged.back().out1 = p.out1;
          merged.back().in1 = std::max(merged.back().in1, p.in1);
        } else {
          merged.push_back(p);
        }
      parts.push_back(std::move(merged));
    }
  double copied_c = 0;  // a concat's channels not written into it in place
  for (std::size_t k = 0; k < st.in.size(); ++k) {
    const int v = st.in[k];
    if (s.values[static_cast<std::size_t>(v)].parent == st.out) continue;  // written in place: not read
    copied_c += static_cast<double>(s.values[static_cast<std::size_t>(v)].shape.c);
    const Span sp = span_of(s, v);
    for (int t = 0; t < busy; ++t) {
      if (split != ThreadSplit::Rows || sp.pixels <= 1) {
        out.reads.push_back(sp.at(0, sp.pixels, t));
        continue;
      }
      for (const PixelPart& p : parts[static_cast<std::size_t>(t)]) {
        // The first input as the windows read it; another of the output's
        // pixels, pixel for pixel (an add's second operand); else in proportion.
        const std::int64_t a0 = p.out0 * sp.pixels / o.pixels, a1 = p.out1 * sp.pixels / o.pixels;
        const auto [p0, p1] = k == 0 ? std::pair{p.in0, p.in1} : std::pair{a0, a1};
        // The thread's own pixels of the input (those its output pixels map
        // to); the windows' reach beyond them is the halo (model v31).
        const std::int64_t own0 = std::clamp(a0, p0, p1), own1 = std::clamp(a1, own0, p1);
        for (const auto& [lo, hi, halo] : {std::tuple{p0, own0, true}, {own0, own1, false}, {own1, p1, true}}) {
          if (lo >= hi) continue;
          Touch r = sp.at(lo, hi, t);
          r.halo = halo;
          out.reads.push_back(r);
        }
      }
    }
  }
  // A concat writes only the channels it copies; the stretch is then marked as
  // its writers' whole (stretches do not follow channels).
  if (st.info.kind == StepKind::Concat) out.out_density = copied_c / static_cast<double>(o.stride);
  for (int t = 0; t < busy; ++t) {
    if (split != ThreadSplit::Rows) {
      Touch w = o.at(0, o.pixels, t);
      w.density = out.out_density;
      w.share = split == ThreadSplit::Columns ? 1.0 / n : 1.0;
      w.holder = split == ThreadSplit::One ? 0 : kEveryone;
      out.writes.push_back(w);
      continue;
    }
    for (const PixelPart& p : parts[static_cast<std::size_t>(t)]) {
      Touch w = o.at(p.out0, p.out1, t);
      w.density = out.out_density;
      out.writes.push_back(w);
    }
  }
  return out;
}

CoreWalk::CoreWalk(int threads, std::vector<double> lost_after)
    : threads_(std::max(threads, 1)), lost_after_(std::move(lost_after)) {
  starts_ = {0, std::numeric_limits<std::int64_t>::max()};  // the second marks the end
  holders_.resize(2);
}

std::size_t CoreWalk::find(std::int64_t x) const {
  const auto it = std::upper_bound(starts_.begin(), starts_.end(), x);
  return static_cast<std::size_t>(it - starts_.begin()) - 1;  // the stretch holding x (the first starts at 0, x >= 0)
}

std::size_t CoreWalk::find_from(std::int64_t x, std::size_t from) const {
  // A step's parts follow one another: the stretch holding x is most often
  // `from` or one of the next few.
  for (std::size_t i = from; i < from + 4 && i + 1 < starts_.size(); ++i)
    if (starts_[i] <= x && x < starts_[i + 1]) return i;
  return find(x);
}

void CoreWalk::cut_all() {
  // Those not yet starts, in order; then a merge from the back, in place:
  // only the stretches above the lowest new start move.
  std::sort(cuts_.begin(), cuts_.end());
  std::size_t fresh = 0, i = 0;
  for (std::size_t c = 0; c < cuts_.size(); ++c) {
    const std::int64_t x = cuts_[c];
    if (fresh > 0 && cuts_[fresh - 1] == x) continue;
    while (starts_[i] < x) ++i;  // the end marker stops it
    if (starts_[i] != x) cuts_[fresh++] = x;
  }
  cuts_.resize(fresh);
  if (cuts_.empty()) return;
  i = starts_.size();
  std::size_t c = cuts_.size();
  starts_.resize(i + c);
  holders_.resize(i + c);
  for (std::size_t out = starts_.size(); c > 0;) {
    --out;
    if (starts_[i - 1] > cuts_[c - 1]) {  // stretch i - 1 moves up
      --i;
      starts_[out] = starts_[i];
      holders_[out] = holders_[i];
    } else {  // the cut starts a stretch inside stretch i - 1, with its holders
      --c;
      starts_[out] = cuts_[c];
      holders_[out] = holders_[i - 1];
    }
  }
}

void CoreWalk::coalesce(std::size_t first, std::size_t last) {
  first = std::max<std::size_t>(first, 1);
  last = std::min(last, starts_.size() - 2);  // the end marker stays
  if (first > last) return;
  std::size_t kept = first;
  for (std::size_t i = first; i <= last; ++i) {
    if (holders_[i] == holders_[kept - 1]) continue;
    starts_[kept] = starts_[i];
    holders_[kept] = holders_[i];
    ++kept;
  }
  starts_.erase(starts_.begin() + static_cast<std::ptrdiff_t>(kept),
                starts_.begin() + static_cast<std::ptrdiff_t>(last + 1));
  holders_.erase(holders_.begin() + static_cast<std::ptrdiff_t>(kept),
                 holders_.begin() + static_cast<std::ptrdiff_t>(last + 1));
}

double CoreWalk::foreign_write(std::int64_t lo, std::int64_t hi, double bytes_per_float, int t, bool stale,
                               std::size_t& from) const {
  // Floats counted whole, over other cores' lines for a part (a column write
  // by every thread), lost from L2 and from L3: summed as integers, so that
  // how the walk cuts its stretches changes nothing.
  std::int64_t whole = 0, part = 0, lost_l2 = 0, lost_l3 = 0;
  std::size_t i = find_from(lo, from);
  for (; starts_[i] < hi; ++i) {
    const Holder& h = holders_[i];
    const std::int64_t len = std::min(starts_[i + 1], hi) - std::max(starts_[i], lo);
    if ((h.readers & ~bit(t)) != 0 || (h.writer >= 0 && h.writer != t))
      whole += len;
    else if (h.writer == kEveryone)
      part += len;
    if (stale) {
      const double age = now_ - h.touched;
      if (age > kL3FitBytes)
        lost_l3 += len;
      else if (age > kL2FitBytes)
        lost_l2 += len;
    }
  }
  from = i - 1;  // the stretch holding hi - 1
  return bytes_per_float *
         (static_cast<double>(whole) + static_cast<double>(part) * others_share(kEveryone, t, threads_) +
          kStaleL2 * static_cast<double>(lost_l2) + kStaleL3 * static_cast<double>(lost_l3));
}

const StepTraffic& CoreWalk::step(const StepTouches& st, const std::vector<std::int64_t>& offset, double step_bytes) {
  StepTraffic& out = traffic_;
  out.read.assign(static_cast<std::size_t>(threads_), 0.0);
  out.write.assign(static_cast<std::size_t>(threads_), 0.0);
  out.halo_read.assign(static_cast<std::size_t>(threads_), 0.0);
  out.out_lost.assign(lost_after_.size(), 0.0);
  walk(st, offset, step_bytes, true);
  return out;
}

void CoreWalk::mark(const StepTouches& st, const std::vector<std::int64_t>& offset, double step_bytes) {
  walk(st, offset, step_bytes, false);
}

void CoreWalk::walk(const StepTouches& st, const std::vector<std::int64_t>& offset, double step_bytes, bool count) {
  StepTraffic& out = traffic_;
  if (st.no_work) return;
  auto base = [&](int root) { return offset[static_cast<std::size_t>(root)]; };
  const std::int64_t o_lo = base(st.out_root) + st.out_lo, o_hi = base(st.out_root) + st.out_hi;
  const bool count_lost = count && o_lo < o_hi && !lost_after_.empty();
  // Every stretch the step touches starts and ends where a touch does: cut
  // them all in one pass (touch by touch, each cut moved the whole walk).
  cuts_.clear();
  auto add_cut = [&](std::int64_t x) {
    if (cuts_.empty() || cuts_.back() != x) cuts_.push_back(x);  // a part often starts where the last ended
  };
  for (const auto* touches : {&st.reads, &st.writes})
    for (const Touch& x : *touches)
      if (x.lo < x.hi) {
        add_cut(base(x.root) + x.lo);
        add_cut(base(x.root) + x.hi);
      }
  if (count_lost) {
    add_cut(o_lo);
    add_cut(o_hi);
  }
  cut_all();

  std::size_t from = 0;
  for (const Touch& r : st.reads) {
    const std::int64_t lo = base(r.root) + r.lo, hi = base(r.root) + r.hi;
    if (lo >= hi) continue;
    std::int64_t whole = 0, part = 0;  // floats the thread had not read, written by another core or by every one
    std::size_t i = find_from(lo, from);
    for (; starts_[i] < hi; ++i) {
      Holder& h = holders_[i];
      if (count && (h.readers & bit(r.thread)) == 0) {
        const std::int64_t len = starts_[i + 1] - starts_[i];
        if (h.writer == kEveryone)
          part += len;
        else if (h.writer >= 0 && h.writer != r.thread)
          whole += len;
      }
      h.readers |= bit(r.thread);
      h.touched = now_;
    }
    from = i - 1;
    if (count)
      (r.halo ? out.halo_read : out.read)[static_cast<std::size_t>(r.thread)] +=
          4.0 * r.density *
          (static_cast<double>(whole) + static_cast<double>(part) * others_share(kEveryone, r.thread, threads_));
  }
  if (count_lost) {
    std::vector<std::int64_t>& lost = lost_floats_;
    lost.assign(lost_after_.size(), 0);
    for (std::size_t i = find(o_lo); starts_[i] < o_hi; ++i)
      for (std::size_t k = 0; k < lost_after_.size(); ++k)
        if (now_ - holders_[i].touched > lost_after_[k]) lost[k] += starts_[i + 1] - starts_[i];
    for (std::size_t k = 0; k < lost.size(); ++k) out.out_lost[k] = st.out_density * static_cast<double>(lost[k]);
  }
  from = 0;
  for (const Touch& w : st.writes)
    if (count && w.lo < w.hi)
      out.write[static_cast<std::size_t>(w.thread)] +=
          foreign_write(base(w.root) + w.lo, base(w.root) + w.hi, 4.0 * w.density * w.share, w.thread, false, from);
  from = 0;
  std::int64_t written_lo = std::numeric_limits<std::int64_t>::max(), written_hi = 0;
  for (const Touch& w : st.writes) {
    const std::int64_t lo = base(w.root) + w.lo, hi = base(w.root) + w.hi;
    if (lo >= hi) continue;
    written_lo = std::min(written_lo, lo);
    written_hi = std::max(written_hi, hi);
    const Holder now{w.holder, w.holder >= 0 ? bit(w.holder) : std::uint64_t{0}, now_};
    std::size_t i = find_from(lo, from);
    for (; starts_[i] < hi; ++i) holders_[i] = now;
    from = i - 1;
  }
  if (written_lo < written_hi) coalesce(find(written_lo), find(written_hi));
  now_ += step_bytes;
}

double CoreWalk::write_cost(const StepTouches& st, std::int64_t out_offset, double limit) const {
  double cost = 0;
  std::size_t from = 0;
  for (const Touch& w : st.writes) {
    if (w.lo < w.hi)
      cost += foreign_write(out_offset + w.lo, out_offset + w.hi, 4.0 * w.density * w.share, w.thread, true, from);
    if (cost > limit) break;
  }
  return cost;
}

std::vector<std::int64_t> value_offsets(const Schedule& s) {
  std::vector<std::int64_t> out(s.values.size());
  for (std::size_t v = 0; v < s.values.size(); ++v) out[v] = s.values[v].offset;
  return out;
}

std::vector<StepTouches> schedule_touches(const Schedule& s) {
  std::vector<StepTouches> out;
  out.reserve(s.steps.size());
  for (std::size_t i = 0; i < s.steps.size(); ++i) out.push_back(step_touches(s, i));
  return out;
}

std::vector<SteadyTraffic> steady_traffic(const Schedule& s, const std::vector<StepTouches>& touches,
                                          const std::vector<std::int64_t>& offset, std::int64_t arena_floats) {
  std::vector<SteadyTraffic> out(s.steps.size());
  // min(traffic since, footprint) > size <=> traffic since > size where the footprint is larger, else never.
  const double footprint = 4.0 * static_cast<double>(s.weight_floats + arena_floats);
  const auto level = [&](double size) { return footprint > size ? size : std::numeric_limits<double>::infinity(); };
  CoreWalk walk(s.threads, {level(kL2FitBytes), level(kL3FitBytes)});
  // The first run leaves the state the second starts from; only the second counts.
  for (std::size_t i = 0; i < s.steps.size(); ++i)
    walk.mark(touches[i], offset, static_cast<double>(s.steps[i].info.bytes));
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    const StepTraffic& t = walk.step(touches[i], offset, static_cast<double>(s.steps[i].info.bytes));
    if (touches[i].no_work) continue;
    SteadyTraffic& o = out[i];
    o.read = *std::max_element(t.read.begin(), t.read.end());
    o.halo_read = *std::max_element(t.halo_read.begin(), t.halo_read.end());
    o.write = *std::max_element(t.write.begin(), t.write.end());
    for (double b : t.write) o.write_all += b;
    o.out_l2_lost = t.out_lost[0];
    o.out_l3_lost = t.out_lost[1];
  }
  return out;
}

double placement_cost(const std::vector<SteadyTraffic>& traffic) {
  double total = 0;
  for (const SteadyTraffic& t : traffic)
    total += t.write_all + 4.0 * (kStaleL2 * (t.out_l2_lost - t.out_l3_lost) + kStaleL3 * t.out_l3_lost);
  return total;
}

namespace {

/// `start` with each buffer moved, as its first step writes it, to where the
/// fewest bytes cross between cores (plan_arena_by_thread), within `cap` floats.
ArenaPlan move_by_thread(const Schedule& s, const std::vector<StepTouches>& touches, const std::vector<int>& roots,
                         const std::vector<ArenaRequest>& requests, const ArenaPlan& start, std::int64_t cap) {
  const std::size_t n_req = requests.size();
  std::vector<int> request_of(s.values.size(), -1);
  for (std::size_t r = 0; r < n_req; ++r) request_of[static_cast<std::size_t>(roots[r])] = static_cast<int>(r);
  std::vector<std::int64_t> blocks(n_req);
  for (std::size_t r = 0; r < n_req; ++r) blocks[r] = arena_block_floats(requests[r].floats);
  auto block = [&](std::size_t r) { return blocks[r]; };
  // The step that first writes each buffer.
  std::vector<int> writer(n_req, -1);
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    const int r = request_of[static_cast<std::size_t>(root_of(s, s.steps[i].out))];
    if (r >= 0 && !touches[i].no_work && requests[static_cast<std::size_t>(r)].first == static_cast<int>(i) &&
        writer[static_cast<std::size_t>(r)] < 0)
      writer[static_cast<std::size_t>(r)] = static_cast<int>(i);
  }
  std::vector<std::size_t> by_birth(n_req);
  for (std::size_t r = 0; r < n_req; ++r) by_birth[r] = r;
  std::stable_sort(by_birth.begin(), by_birth.end(),
                   [&](std::size_t x, std::size_t y) { return requests[x].first < requests[y].first; });

  ArenaPlan plan = start;
  std::vector<std::int64_t> offset(s.values.size(), 0);
  for (std::size_t r = 0; r < n_req; ++r) offset[static_cast<std::size_t>(roots[r])] = plan.offsets[r];
  const int n = std::max(s.threads, 1);
  auto others = [&](int holder, int t) { return others_share(holder, t, n); };

  // The bytes the buffers written next over request r's place would write
  // over lines r's writers hold, were r at `at` (the holders r's readers add
  // are left out): the other half of what a place costs, the half CoreWalk
  // sees only when those buffers' steps run. Buffers born more than kHorizon
  // steps after r dies are left out (the caches will have lost r's lines).
  constexpr int kHorizon = 8;
  std::vector<std::pair<std::int64_t, std::int64_t>> covered;
  // Stops once `base` + the cost exceeds `limit` (what it returns then is
  // more than that, not the whole).
  auto after_cost = [&](std::size_t r, std::int64_t at, double base, double limit) {
    const std::int64_t end = at + block(r);
    const StepTouches& mine = touches[static_cast<std::size_t>(writer[r])];
    covered.clear();
    std::int64_t covered_floats = 0;
    double cost = 0;
    const int last = requests[r].last;
    auto next = std::upper_bound(by_birth.begin(), by_birth.end(), last,
                                 [&](int step, std::size_t z) { return step < requests[z].first; });
    for (; next != by_birth.end() && requests[*next].first <= last + kHorizon; ++next) {
      const std::size_t z = *next;
      if (writer[z] < 0 || block(z) == 0) continue;
      const std::int64_t zo = plan.offsets[z], ze = zo + block(z);
      if (ze <= at || end <= zo) continue;
      for (const Touch& w : touches[static_cast<std::size_t>(writer[z])].writes)
        for (const Touch& h : mine.writes) {
          const std::int64_t lo = std::max(zo + w.lo, at + h.lo), hi = std::min(zo + w.hi, at + h.hi);
          if (lo >= hi || others(h.holder, w.thread) == 0) continue;
          std::int64_t len = hi - lo;
          for (const auto& [c0, c1] : covered) len -= std::max<std::int64_t>(0, std::min(hi, c1) - std::max(lo, c0));
          cost += 4.0 * w.density * w.share * static_cast<double>(len) * others(h.holder, w.thread);
        }
      if (base + cost > limit) break;
      // What z covers of r's place is now z's: merge it into `covered`.
      std::int64_t c0 = std::max(zo, at), c1 = std::min(ze, end);
      for (auto it = covered.begin(); it != covered.end();)
        if (it->first <= c1 && c0 <= it->second) {
          c0 = std::min(c0, it->first);
          c1 = std::max(c1, it->second);
          covered_floats -= it->second - it->first;
          it = covered.erase(it);
        } else {
          ++it;
        }
      covered.emplace_back(c0, c1);
      covered_floats += c1 - c0;
      if (covered_floats >= end - at) break;
    }
    return cost;
  };

  std::vector<std::pair<std::int64_t, std::int64_t>> busy;
  std::vector<std::int64_t> candidates;
  // Where each buffer's writers' parts begin and end (relative floats).
  std::vector<std::vector<std::int64_t>> bounds(n_req);
  for (std::size_t r = 0; r < n_req; ++r) {
    if (writer[r] < 0) continue;
    for (const Touch& w : touches[static_cast<std::size_t>(writer[r])].writes) {
      bounds[r].push_back(w.lo);
      bounds[r].push_back(w.hi);
    }
    std::sort(bounds[r].begin(), bounds[r].end());
    bounds[r].erase(std::unique(bounds[r].begin(), bounds[r].end()), bounds[r].end());
  }
  CoreWalk walk(s.threads);

  // Moves request r, as its first step is about to write it, to the place
  // where the fewest bytes cross between cores there (its writers over the
  // lines' holders before it, and the next buffers' writers over its own),
  // among the places that fit beside every buffer live with it below `cap`:
  // its own, the lowest free ones, and those lining its writers' part
  // boundaries up with those of the buffers that held the place last or take
  // it next (within kNear steps). Ties keep the lower offset.
  constexpr int kNear = 2;
  // Per buffer: those live with it, and those within kNear steps before or after it.
  // Those are the buffers alive at a step within kNear of r's life: found
  // through the buffers alive at each step.
  std::vector<std::vector<std::size_t>> live_with(n_req), near(n_req), alive(s.steps.size());
  for (std::size_t q : by_birth)
    if (block(q) > 0)
      for (int i = std::max(requests[q].first, 0); i <= requests[q].last && i < static_cast<int>(alive.size()); ++i)
        alive[static_cast<std::size_t>(i)].push_back(q);
  std::vector<std::size_t> seen(n_req, n_req);
  for (std::size_t r = 0; r < n_req; ++r) {
    if (writer[r] < 0 || block(r) == 0) continue;
    const ArenaRequest& req = requests[r];
    const int from = std::max(req.first - kNear, 0),
              to = std::min(req.last + kNear, static_cast<int>(alive.size()) - 1);
    for (int i = from; i <= to; ++i)
      for (std::size_t q : alive[static_cast<std::size_t>(i)]) {
        if (seen[q] == r) continue;
        seen[q] = r;
        const ArenaRequest& o = requests[q];
        if (q == r) continue;
        if (o.first <= req.last && req.first <= o.last) live_with[r].push_back(q);
        const bool before = o.last < req.first && o.last >= req.first - kNear;
        const bool after = o.first > req.last;
        if (writer[q] >= 0 && (before || after)) near[r].push_back(q);
      }
  }
  auto move = [&](std::size_t r) {
    const std::int64_t size = block(r);
    const StepTouches& mine = touches[static_cast<std::size_t>(writer[r])];
    std::int64_t best = plan.offsets[r];
    const double own_write = walk.write_cost(mine, best);
    double best_cost = own_write + after_cost(r, best, own_write, std::numeric_limits<double>::infinity());
    if (best_cost == 0) return;
    // The places of the buffers live with r by start, each with the highest
    // end so far: a place [at, at + size) is free when those starting below
    // at + size all end by at.
    busy.clear();
    for (std::size_t q : live_with[r]) busy.emplace_back(plan.offsets[q], plan.offsets[q] + block(q));
    candidates.assign({plan.offsets[r], 0});
    for (const auto& b : busy) candidates.push_back(b.second);
    std::sort(busy.begin(), busy.end());
    for (std::size_t k = 1; k < busy.size(); ++k) busy[k].second = std::max(busy[k].second, busy[k - 1].second);
    auto is_free = [&](std::int64_t at) {
      const auto below = std::lower_bound(busy.begin(), busy.end(), at + size,
                                          [](const auto& b, std::int64_t x) { return b.first < x; });
      return below == busy.begin() || std::prev(below)->second <= at;
    };
    // Part k of r over part k of z, counted from the first part and from the last.
    const std::vector<std::int64_t>& own = bounds[r];
    for (std::size_t z : near[r]) {
      const std::vector<std::int64_t>& theirs = bounds[z];
      const std::size_t m = std::min(own.size(), theirs.size());
      auto line_up = [&](std::int64_t zb, std::int64_t b) {
        const std::int64_t at =
            (plan.offsets[z] + zb - b + kArenaAlignFloats / 2) / kArenaAlignFloats * kArenaAlignFloats;
        if (at >= 0) candidates.push_back(at);
      };
      for (std::size_t k = 0; k < m; ++k) {
        line_up(theirs[k], own[k]);
        line_up(theirs[theirs.size() - 1 - k], own[own.size() - 1 - k]);
      }
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    for (std::int64_t at : candidates) {
      if (at + size > cap || best_cost == 0) break;
      if (!is_free(at)) continue;
      double cost = walk.write_cost(mine, at, best_cost);
      if (cost > best_cost) continue;
      cost += after_cost(r, at, cost, best_cost);
      if (cost < best_cost || (cost == best_cost && at < best)) {
        best = at;
        best_cost = cost;
      }
    }
    plan.offsets[r] = best;
    offset[static_cast<std::size_t>(roots[r])] = best;
  };

  for (int sweep = 0; sweep < 2; ++sweep)  // the second from the state the first run leaves
    for (std::size_t i = 0; i < s.steps.size(); ++i) {
      const int r = request_of[static_cast<std::size_t>(root_of(s, s.steps[i].out))];
      if (r >= 0 && writer[static_cast<std::size_t>(r)] == static_cast<int>(i) &&
          block(static_cast<std::size_t>(r)) > 0)
        move(static_cast<std::size_t>(r));
      walk.mark(touches[i], offset, static_cast<double>(s.steps[i].info.bytes));
    }
  plan.floats = 0;
  for (std::size_t r = 0; r < n_req; ++r) plan.floats = std::max(plan.floats, plan.offsets[r] + block(r));
  return plan;
}

}  // namespace

ArenaPlan plan_arena_by_thread(const Schedule& s, const std::vector<int>& roots,
                               const std::vector<ArenaRequest>& requests, const ArenaPlan& by_size,
                               std::vector<SteadyTraffic>* traffic) {
  if (s.threads <= 1) return by_size;
  const std::vector<StepTouches> touches = schedule_touches(s);
  const std::int64_t cap = by_size.floats + arena_block_floats(by_size.floats / kArenaSlack);
  const ArenaPlan moved = move_by_thread(s, touches, roots, requests, by_size, cap);
  auto walk = [&](const ArenaPlan& plan) {
    std::vector<std::int64_t> offset(s.values.size(), 0);
    for (std::size_t r = 0; r < roots.size(); ++r) offset[static_cast<std::size_t>(roots[r])] = plan.offsets[r];
    return steady_traffic(s, touches, offset, plan.floats);
  };
  std::vector<SteadyTraffic> t_moved = walk(moved), t_size = walk(by_size);
  const bool keep_moved = placement_cost(t_moved) < placement_cost(t_size);
  if (traffic) *traffic = std::move(keep_moved ? t_moved : t_size);
  return keep_moved ? moved : by_size;
}

}  // namespace convscope::runtime
