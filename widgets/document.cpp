#include "document.h"

#include <QFileInfo>

#include "blocks/registry.h"
#include "io/graph_json.h"
#include "io/onnx_import.h"
#include "layout.h"
#include "profile/fusion_choice.h"
#include "qt_strings.h"
#include "runtime/schedule.h"

namespace convscope::gui {
namespace {

/// One edit: the graph before and after. Whole-graph snapshots keep undo exact
/// (byte-for-byte the same file after undo) and cost microseconds at these sizes.
class SnapshotCommand : public QUndoCommand {
 public:
  SnapshotCommand(Document* doc, const QString& text, ir::Graph before, ir::Graph after, QString merge_key)
      : QUndoCommand(text),
        doc_(doc),
        before_(std::move(before)),
        after_(std::move(after)),
        merge_key_(std::move(merge_key)) {}
  void undo() override { doc_->installGraph(before_); }
  void redo() override { doc_->installGraph(after_); }
  [[nodiscard]] int id() const override { return merge_key_.isEmpty() ? -1 : 1; }
  bool mergeWith(const QUndoCommand* other) override {
    const auto* o = static_cast<const SnapshotCommand*>(other);
    if (o->merge_key_ != merge_key_) return false;
    after_ = o->after_;
    setText(o->text());  // "Set a.out = 24", not the first keystroke's "= 2"
    if (after_ == before_) setObsolete(true);
    return true;
  }

 private:
  Document* doc_;
  ir::Graph before_, after_;
  QString merge_key_;
};

}  // namespace

QString describe(const Diagnostics& d) {
  QStringList lines;
  for (const auto& x : d) lines << (x.where.empty() ? qs(x.message) : qs(x.where) + ": " + qs(x.message));
  return lines.join('\n');
}

Document::Document(QObject* parent) : QObject(parent) {
  undo_.setUndoLimit(0);
  reanalyze();
}

Document::~Document() = default;

QString Document::displayName() const {
  if (!path_.isEmpty()) return QFileInfo(path_).fileName();
  return graph_.name.empty() ? tr("untitled") : qs(graph_.name);
}

void Document::reset(ir::Graph graph, const QString& path, std::map<std::string, runtime::OpWeights> weights) {
  // Place blocks that have no position (presets and imported models have none).
  const bool unplaced = std::any_of(graph.nodes.begin(), graph.nodes.end(), [](const ir::Node& n) { return !n.pos; });
  if (unplaced) edit::move_blocks(graph, layered_layout(graph, layout_aspect_));
  undo_.clear();
  weights_ = std::move(weights);
  path_ = path;
  profile_.reset();
  selection_.clear();
  installGraph(graph);
  undo_.setClean();
  emit pathChanged();
  emit profileChanged();
  emit selectionChanged();
  emit replaced();
}

Result<bool> Document::open(const QString& path) {
  const std::filesystem::path p = path.toStdString();
  const std::string name = QFileInfo(path).fileName().toStdString();
  auto prefix = [&](Diagnostics d) {
    for (auto& x : d) x.where = x.where.empty() ? name : name + ": " + x.where;
    return tl::unexpected(std::move(d));
  };
  if (path.endsWith(".onnx", Qt::CaseInsensitive)) {
    auto m = io::import_onnx(p);
    if (!m) return prefix(m.error());
    reset(std::move(m->graph), {}, std::move(m->weights));
    return true;
  }
  auto g = io::load_graph(p);
  if (!g) return prefix(g.error());
  reset(std::move(*g), path);
  return true;
}

Result<bool> Document::save(const QString& path) {
  const QString target = path.isEmpty() ? path_ : path;
  if (target.isEmpty()) return fail("", "no file name given");
  auto ok = io::save_graph(target.toStdString(), graph_);
  if (!ok) return ok;
  if (target != path_) {
    path_ = target;
    emit pathChanged();
  }
  undo_.setClean();
  return true;
}

void Document::apply(const QString& text, ir::Graph next, const QString& merge_key) {
  if (next == graph_) return;
  undo_.push(new SnapshotCommand(this, text, graph_, std::move(next), merge_key));
}

Result<std::string> Document::addBlock(const std::string& kind, std::optional<edit::Pos> pos) {
  ir::Graph g = graph_;
  auto id = edit::add_block(g, kind, pos);
  if (id) apply(tr("Add %1").arg(qs(*id)), std::move(g));
  return id;
}

Result<std::string> Document::spliceBlock(const std::string& kind, const std::string& to, std::size_t slot,
                                          std::optional<edit::Pos> pos, QString* note) {
  ir::Graph g = graph_;
  auto id = edit::splice_block(g, kind, to, slot, pos);
  if (!id) return id;
  // A block that sets its output width takes the edge's channel count, so the
  // blocks downstream keep the input they had (an inverted residual's default
  // 24 dropped on a 32-channel edge would silently change the next block).
  ir::Node& added = g.nodes[static_cast<std::size_t>(g.find(*id))];
  const auto* k = blocks::Registry::builtin().find(kind);
  const ir::ParamSpec* out = k ? k->param("out") : nullptr;
  const int src = graph_.find(added.inputs.front());
  if (out && out->type == ir::ParamType::Channels && src >= 0 &&
      analysis_.nodes[static_cast<std::size_t>(src)].status == cost::NodeStatus::Ok) {
    const std::int64_t c = analysis_.nodes[static_cast<std::size_t>(src)].out.c;
    added.params["out"] = c;
    // The edge's width is after the width multiplier: keep it as it is at this alpha.
    if (graph_.settings.alpha != 1.0) added.width = ir::WidthRule::Fixed;
    if (note) *note = tr("out %1: the channels of the edge").arg(c);
  }
  edit::move_blocks(g, make_room(g, *id));
  apply(tr("Insert %1 before %2").arg(qs(*id), qs(to)), std::move(g));
  return id;
}

Result<bool> Document::connectBlocks(const std::string& from, const std::string& to, std::size_t slot) {
  ir::Graph g = graph_;
  auto ok = edit::connect(g, from, to, slot);
  if (ok) apply(tr("Connect %1 to %2").arg(qs(from), qs(to)), std::move(g));
  return ok;
}

Result<bool> Document::disconnect(const std::string& to, std::size_t slot) {
  ir::Graph g = graph_;
  auto ok = edit::disconnect(g, to, slot);
  if (ok) apply(tr("Disconnect input %1 of %2").arg(slot + 1).arg(qs(to)), std::move(g));
  return ok;
}

void Document::removeBlocks(const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  ir::Graph g = graph_;
  edit::remove_blocks(g, ids);
  apply(ids.size() == 1 ? tr("Delete %1").arg(qs(ids[0])) : tr("Delete %1 blocks").arg(ids.size()), std::move(g));
}

Result<bool> Document::setParam(const std::string& id, const std::string& name,
                                const std::optional<ir::ParamValue>& value) {
  ir::Graph g = graph_;
  auto ok = edit::set_param(g, id, name, value);
  if (ok) {
    const QString text = value ? tr("Set %1.%2 = %3").arg(qs(id), qs(name), qs(ir::param_value_str(*value)))
                               : tr("Reset %1.%2").arg(qs(id), qs(name));
    apply(text, std::move(g), "param:" + qs(id) + "." + qs(name));
  }
  return ok;
}

Result<bool> Document::renameBlock(const std::string& id, const std::string& new_id) {
  ir::Graph g = graph_;
  auto ok = edit::rename_block(g, id, new_id);
  if (ok && g != graph_) {
    apply(tr("Rename %1 to %2").arg(qs(id), qs(new_id)), std::move(g));
    for (auto& s : selection_)
      if (s == id) s = new_id;
    emit selectionChanged();
  }
  return ok;
}

void Document::setWidthRule(const std::string& id, ir::WidthRule rule) {
  ir::Graph g = graph_;
  const int i = g.find(id);
  if (i < 0) return;
  g.nodes[static_cast<std::size_t>(i)].width = rule;
  apply(tr("Set %1 width rule").arg(qs(id)), std::move(g));
}

void Document::moveBlocks(const std::map<std::string, edit::Pos, std::less<>>& positions) {
  ir::Graph g = graph_;
  edit::move_blocks(g, positions);
  QStringList ids;
  for (const auto& [id, p] : positions) ids << qs(id);
  apply(positions.size() == 1 ? tr("Move %1").arg(ids.front()) : tr("Move %1 blocks").arg(positions.size()),
        std::move(g), "move:" + ids.join(','));
}

std::vector<std::string> Document::pasteBlocks(const ir::Graph& part, edit::Pos offset) {
  ir::Graph g = graph_;
  auto ids = edit::paste(g, part, offset);
  if (!ids.empty()) {
    apply(tr("Paste %1 blocks").arg(ids.size()), std::move(g));
    select(ids);
  }
  return ids;
}

void Document::setAlpha(double alpha) {
  ir::Graph g = graph_;
  g.settings.alpha = alpha;
  apply(tr("Width multiplier %1").arg(alpha), std::move(g), "alpha");
}

void Document::setResolution(std::optional<std::int64_t> resolution) {
  ir::Graph g = graph_;
  g.settings.resolution = resolution;
  apply(resolution ? tr("Resolution %1").arg(*resolution) : tr("Resolution from the input blocks"), std::move(g),
        "resolution");
}

void Document::autoLayout() {
  ir::Graph g = graph_;
  edit::move_blocks(g, layered_layout(g, layout_aspect_));
  apply(tr("Automatic layout"), std::move(g));
}

void Document::select(std::vector<std::string> ids) {
  if (ids == selection_) return;
  selection_ = std::move(ids);
  emit selectionChanged();
}

bool Document::profileCurrent() const { return profile_ && profile_->graph == graph_; }

void Document::setProfile(std::shared_ptr<const ProfileData> data) {
  profile_ = std::move(data);
  emit profileChanged();
}

void Document::setCalibration(const profile::Calibration& cal) {
  calibration_ = cal;
  predict();
  emit changed();
}

void Document::setLatencyModel(const profile::LatencyModel& model) {
  model_ = model;
  predict();
  emit changed();
}

namespace {
/// Sum of `per_op` over `node`'s ops, or over every op (node = -1).
double sum_of(const std::vector<double>& per_op, const cost::Analysis& a, int node) {
  std::size_t first = 0, last = per_op.size();
  if (node >= 0) {
    const auto& rec = a.nodes[static_cast<std::size_t>(node)];
    first = static_cast<std::size_t>(rec.first_op);
    last = first + static_cast<std::size_t>(rec.n_ops);
  }
  double sum = 0;
  for (std::size_t i = first; i < last && i < per_op.size(); ++i) sum += per_op[i];
  return sum;
}
}  // namespace

double Document::predictedNs(int node) const {
  if (node < 0) return predicted_total_ns_;
  return sum_of(predicted_ns_, analysis_, node);
}

double Document::boundNs(int node) const { return sum_of(bound_ns_, analysis_, node); }

int Document::stepHost(int node) const {
  if (node < 0 || static_cast<std::size_t>(node) >= analysis_.nodes.size()) return -1;
  const auto& rec = analysis_.nodes[static_cast<std::size_t>(node)];
  int host = -1;
  for (int i = rec.first_op; i < rec.first_op + rec.n_ops; ++i) {
    const int head = static_cast<std::size_t>(i) < step_head_.size() ? step_head_[static_cast<std::size_t>(i)] : -1;
    if (head < 0) return -1;
    const int owner = analysis_.ops[static_cast<std::size_t>(head)].node;
    if (owner == node) return -1;  // one of its ops heads a step: it has a step of its own
    host = owner;
  }
  return host;
}

void Document::predict() {
  bound_ns_.clear();
  predicted_ns_.clear();
  predicted_total_ns_ = 0;
  extrapolated_ = 0;
  step_head_.clear();
  fusion_.clear();
  if (calibration_) bound_ns_ = profile::predict_ops_ns(analysis_, *calibration_, 1);
  if (!model_ || !analysis_.complete()) return;
  // The steps a run would time (same fusions and layouts), predicted one by one.
  runtime::PlanOptions po;
  po.threads = model_->threads;
  profile::FusionChoice choice;
  std::optional<runtime::Schedule> schedule;
  po = profile::apply_fusion(graph_, analysis_, &*model_, {}, po, &choice, &schedule);
  fusion_ = choice.summary();
  if (!schedule) {
    auto built = runtime::Schedule::build(graph_, analysis_, po);
    if (!built) return;
    schedule = std::move(*built);
  }
  // Bounds of what the plan runs (a Winograd step does fewer multiplies than its layer counts).
  if (calibration_) bound_ns_ = profile::predict_ops_ns(analysis_, *calibration_, 1, &*schedule);
  const auto p = model_->predict(*schedule);
  predicted_ns_.assign(analysis_.ops.size(), 0.0);
  step_head_.assign(analysis_.ops.size(), -1);
  for (std::size_t s = 0; s < p.steps.size(); ++s) {
    const auto& ops = schedule->steps[s].info.ops;
    if (!ops.empty()) predicted_ns_[static_cast<std::size_t>(ops.front())] = p.steps[s].ns;
    for (int op : ops) step_head_[static_cast<std::size_t>(op)] = ops.front();
  }
  predicted_total_ns_ = p.total_ns;
  extrapolated_ = p.extrapolated;
}

void Document::installGraph(const ir::Graph& graph) {
  graph_ = graph;
  // Drop selected ids that no longer exist.
  const auto before = selection_.size();
  std::erase_if(selection_, [&](const std::string& id) { return graph_.find(id) < 0; });
  reanalyze();
  emit changed();
  if (selection_.size() != before) emit selectionChanged();
}

void Document::setAnalysisOptions(const cost::AnalysisOptions& options) {
  options_ = options;
  reanalyze();
  emit changed();
  emit analysisOptionsChanged();
}

void Document::reanalyze() {
  analysis_ = cost::analyze(graph_, options_);
  predict();
}

}  // namespace convscope::gui
