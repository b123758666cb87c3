#include "cost_table.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QHeaderView>
#include <QScrollBar>

#include "io/report.h"
#include "qt_strings.h"

namespace convscope::gui {
namespace {

/// Sorts by the number stored under Qt::UserRole where there is one, else by text.
class Row : public QTreeWidgetItem {
 public:
  using QTreeWidgetItem::QTreeWidgetItem;
  bool operator<(const QTreeWidgetItem& other) const override {
    const int col = treeWidget() ? treeWidget()->sortColumn() : 0;
    const QVariant a = data(col, Qt::UserRole), b = other.data(col, Qt::UserRole);
    if (a.isValid() && b.isValid()) return a.toDouble() < b.toDouble();
    if (a.isValid() != b.isValid()) return a.isValid();
    return text(col) < other.text(col);
  }
};

void set_number(QTreeWidgetItem* row, int col, double value, const QString& text) {
  row->setText(col, text);
  row->setData(col, Qt::UserRole, value);
  row->setTextAlignment(col, Qt::AlignRight | Qt::AlignVCenter);
}

QString us(double ns) { return ns > 0 ? QString::number(ns / 1e3, 'f', ns < 1e4 ? 2 : 1) : QString(); }

QString shape(const ir::Shape& s) { return QStringLiteral("%1×%2×%3").arg(s.h).arg(s.w).arg(s.c); }

QString csv_field(QString s) {
  if (s.contains(',') || s.contains('"')) s = '"' + s.replace("\"", "\"\"") + '"';
  return s;
}

void fill_costs(QTreeWidgetItem* row, const cost::Totals& t, std::int64_t total_madds) {
  set_number(row, CostTable::kParams, static_cast<double>(t.params), qs(io::with_commas(t.params)));
  set_number(row, CostTable::kMAdds, static_cast<double>(t.madds), qs(io::with_commas(t.madds)));
  const double share = total_madds > 0 ? 100.0 * static_cast<double>(t.madds) / static_cast<double>(total_madds) : 0.0;
  set_number(row, CostTable::kShare, share, QString::number(share, 'f', 2));
  set_number(row, CostTable::kActivations, static_cast<double>(t.activation_bytes),
             qs(io::human(t.activation_bytes, true)));
  set_number(row, CostTable::kWeights, static_cast<double>(t.weight_bytes), qs(io::human(t.weight_bytes, true)));
  set_number(row, CostTable::kIntensity, t.intensity(), QString::number(t.intensity(), 'f', 1));
}

void fill_measured(QTreeWidgetItem* row, double predicted, double bound, double median, double min, double p90) {
  if (predicted > 0) set_number(row, CostTable::kPredicted, predicted, us(predicted));
  if (bound > 0) set_number(row, CostTable::kBound, bound, us(bound));
  if (median <= 0) return;
  set_number(row, CostTable::kMeasured, median, us(median));
  set_number(row, CostTable::kMin, min, us(min));
  set_number(row, CostTable::kP90, p90, us(p90));
  if (predicted > 0)
    set_number(row, CostTable::kRatio, median / predicted, QString::number(median / predicted, 'f', 2));
}

}  // namespace

CostTable::CostTable(Document* doc, QWidget* parent) : QTreeWidget(parent), doc_(doc) {
  setObjectName("costTable");
  setColumnCount(kColumns);
  setHeaderLabels({tr("Block / op"), tr("Kind"), tr("Output"), tr("Params"), tr("MAdds"), tr("% MAdds"),
                   tr("Activations"), tr("Weights"), tr("FLOP/B"), tr("Pred. µs"), tr("Bound µs"), tr("Median µs"),
                   tr("Min µs"), tr("p90 µs"), tr("Meas/pred")});
  headerItem()->setToolTip(kPredicted, tr("Predicted by the latency model calibrated on this machine (a fused "
                                          "step's time sits on its first op)"));
  headerItem()->setToolTip(kBound, tr("Roofline bound: max(FLOPs / peak, bytes / bandwidth), a floor rather than "
                                      "a prediction"));
  headerItem()->setToolTip(kMeasured, tr("Measured median of the last profile (fused ops share their step's time)"));
  setSortingEnabled(true);
  sortByColumn(-1, Qt::AscendingOrder);  // graph order until the user sorts
  setSelectionMode(ExtendedSelection);
  setAlternatingRowColors(true);
  setUniformRowHeights(true);
  header()->setStretchLastSection(false);
  header()->setSectionResizeMode(QHeaderView::Interactive);
  auto* copy = new QAction(tr("Copy table as CSV"), this);
  copy->setShortcut(QKeySequence::Copy);
  copy->setShortcutContext(Qt::WidgetShortcut);
  connect(copy, &QAction::triggered, this, &CostTable::copyCsv);
  addAction(copy);
  setContextMenuPolicy(Qt::ActionsContextMenu);

  connect(doc_, &Document::changed, this, &CostTable::rebuild);
  // A newly opened design gets its columns fitted to its contents.
  connect(doc_, &Document::pathChanged, this, [this] {
    for (int c = 0; c < kColumns; ++c) resizeColumnToContents(c);
    setColumnWidth(kBlock, std::max(columnWidth(kBlock) + 20, 130));
  });
  connect(doc_, &Document::profileChanged, this, &CostTable::rebuild);
  connect(doc_, &Document::selectionChanged, this, &CostTable::syncSelectionFromDocument);
  connect(this, &QTreeWidget::itemSelectionChanged, this, [this] {
    if (syncing_) return;
    std::vector<std::string> ids;
    for (QTreeWidgetItem* item : selectedItems()) {
      QTreeWidgetItem* top = item->parent() ? item->parent() : item;
      const std::string id = top->data(kBlock, Qt::UserRole + 1).toString().toStdString();
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    syncing_ = true;
    doc_->select(ids);
    syncing_ = false;
  });

  // A second view of the same model and selection showing only the Block column,
  // laid over the left edge once the table is scrolled sideways.
  frozen_ = new QTreeView(this);
  frozen_->setObjectName("costTableFrozen");
  frozen_->setModel(model());
  frozen_->setSelectionModel(selectionModel());
  frozen_->setSelectionMode(ExtendedSelection);
  frozen_->setFocusPolicy(Qt::NoFocus);
  frozen_->setFrameShape(QFrame::NoFrame);
  frozen_->setUniformRowHeights(true);
  frozen_->setAlternatingRowColors(true);
  frozen_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  frozen_->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  frozen_->header()->setSectionResizeMode(QHeaderView::Fixed);
  frozen_->header()->setStretchLastSection(false);
  for (int col = 1; col < kColumns; ++col) frozen_->setColumnHidden(col, true);
  frozen_->setStyleSheet(QStringLiteral("QTreeView#costTableFrozen { border-right: 1px solid palette(mid); }"));
  frozen_->hide();
  connect(frozen_->verticalScrollBar(), &QScrollBar::valueChanged, verticalScrollBar(), &QScrollBar::setValue);
  connect(verticalScrollBar(), &QScrollBar::valueChanged, frozen_->verticalScrollBar(), &QScrollBar::setValue);
  connect(horizontalScrollBar(), &QScrollBar::valueChanged, this, &CostTable::updateFrozen);
  connect(header(), &QHeaderView::sectionResized, this, [this](int section) {
    if (section == kBlock) updateFrozen();
  });
  connect(this, &QTreeView::expanded, frozen_, &QTreeView::expand);
  connect(this, &QTreeView::collapsed, frozen_, &QTreeView::collapse);
  connect(frozen_, &QTreeView::expanded, this, &QTreeView::expand);
  connect(frozen_, &QTreeView::collapsed, this, &QTreeView::collapse);
  connect(frozen_->header(), &QHeaderView::sectionClicked, this, [this](int) {
    sortByColumn(kBlock, sortColumn() == kBlock && header()->sortIndicatorOrder() == Qt::AscendingOrder
                             ? Qt::DescendingOrder
                             : Qt::AscendingOrder);
  });
  rebuild();
}

void CostTable::resizeEvent(QResizeEvent* event) {
  QTreeWidget::resizeEvent(event);
  updateFrozen();
}

void CostTable::updateFrozen() {
  if (!frozen_) return;
  const bool scrolled = horizontalScrollBar()->value() > 0;
  frozen_->setVisible(scrolled);
  if (!scrolled) return;
  frozen_->setColumnWidth(kBlock, columnWidth(kBlock));
  frozen_->header()->setFixedHeight(header()->height());
  frozen_->setGeometry(frameWidth(), frameWidth(), columnWidth(kBlock) + 1, viewport()->height() + header()->height());
  frozen_->verticalScrollBar()->setValue(verticalScrollBar()->value());
  for (int i = 0; i < topLevelItemCount(); ++i) {
    const QModelIndex index = indexFromItem(topLevelItem(i));
    if (frozen_->isExpanded(index) != isExpanded(index)) frozen_->setExpanded(index, isExpanded(index));
  }
  frozen_->raise();
}

QTreeWidgetItem* CostTable::blockRow(const std::string& id) const {
  const QString key = qs(id);
  for (int i = 0; i < topLevelItemCount(); ++i)
    if (topLevelItem(i)->data(kBlock, Qt::UserRole + 1).toString() == key) return topLevelItem(i);
  return nullptr;
}

void CostTable::rebuild() {
  // Keep expanded blocks expanded across edits.
  QSet<QString> expanded;
  for (int i = 0; i < topLevelItemCount(); ++i)
    if (topLevelItem(i)->isExpanded()) expanded.insert(topLevelItem(i)->data(kBlock, Qt::UserRole + 1).toString());
  const int sort_col = sortColumn();
  const Qt::SortOrder order = header()->sortIndicatorOrder();
  syncing_ = true;  // clearing the rows must not clear the document's selection
  setUpdatesEnabled(false);
  setSortingEnabled(false);
  clear();
  const auto& g = doc_->graph();
  const auto& a = doc_->analysis();
  const ProfileData* prof = doc_->profileCurrent() ? doc_->profile() : nullptr;
  // Which step covers each op, and whether the op is its first one.
  std::vector<int> step_of(a.ops.size(), -1);
  if (prof)
    for (std::size_t s = 0; s < prof->summary.layers.size(); ++s)
      for (int op : prof->summary.layers[s].ops)
        if (op >= 0 && static_cast<std::size_t>(op) < step_of.size())
          step_of[static_cast<std::size_t>(op)] = static_cast<int>(s);
  const auto& predicted = doc_->predictedOpsNs();
  const auto& bound = doc_->boundOpsNs();
  QList<QTreeWidgetItem*> rows;
  rows.reserve(static_cast<qsizetype>(g.nodes.size()));
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    const auto& rec = a.nodes[i];
    auto* row = new Row;
    row->setText(kBlock, qs(n.id));
    row->setData(kBlock, Qt::UserRole, static_cast<double>(i));  // graph order
    row->setData(kBlock, Qt::UserRole + 1, qs(n.id));
    row->setText(kKind, rec.kind ? qs(rec.kind->info().title) : qs(n.kind));
    if (rec.status == cost::NodeStatus::Ok) {
      row->setText(kOutput, shape(rec.out));
      fill_costs(row, rec.totals, a.totals.madds);
      double med = 0, mn = 0, p90 = 0;
      if (prof && i < prof->summary.blocks.size()) {
        med = prof->summary.blocks[i].median_ns;
        mn = prof->summary.blocks[i].min_ns;
        p90 = prof->summary.blocks[i].p90_ns;
      }
      fill_measured(row, doc_->predictedNs(static_cast<int>(i)), doc_->boundNs(static_cast<int>(i)), med, mn, p90);
      for (int k = rec.first_op; k < rec.first_op + rec.n_ops; ++k) {
        const auto& op = a.ops[static_cast<std::size_t>(k)];
        auto* child = new Row(row);
        child->setText(kBlock, qs(op.op.name));
        child->setText(kKind, qs(std::string(ir::op_kind_name(op.op.kind))));
        child->setText(kOutput, shape(a.tensors[static_cast<std::size_t>(op.output)].shape));
        fill_costs(child, op.totals, a.totals.madds);
        const auto uk = static_cast<std::size_t>(k);
        const double pred = uk < predicted.size() ? predicted[uk] : 0, bnd = uk < bound.size() ? bound[uk] : 0;
        const int s = step_of[static_cast<std::size_t>(k)];
        if (s >= 0) {
          const auto& layer = prof->summary.layers[static_cast<std::size_t>(s)];
          if (layer.in_place) {
            fill_measured(child, pred, bnd, 0, 0, 0);
            child->setText(kMeasured, tr("in place"));
            child->setToolTip(kMeasured, tr("no work: its inputs were written into it, or it is read where it lies"));
          } else if (layer.ops.front() == k) {
            fill_measured(child, pred, bnd, layer.median_ns, layer.min_ns, layer.p90_ns);
            if (layer.fused()) child->setToolTip(kMeasured, tr("step %1 (fused ops)").arg(qs(layer.step)));
          } else if (layer.ops.front() < k) {
            fill_measured(child, pred, bnd, 0, 0, 0);
            child->setText(kMeasured, tr("fused ↑"));
          } else {  // a channel shuffle folded into the steps after it (runtime/schedule.h, fold_shuffles)
            fill_measured(child, pred, bnd, 0, 0, 0);
            child->setText(kMeasured, tr("folded"));
            child->setToolTip(kMeasured,
                              tr("no step of its own: step %1 reads its input in shuffled order").arg(qs(layer.step)));
          }
        } else {
          fill_measured(child, pred, bnd, 0, 0, 0);
        }
      }
    } else {
      const QString why = rec.status == cost::NodeStatus::Invalid ? describe(rec.problems) : qs(rec.unresolved_because);
      row->setText(kOutput, rec.status == cost::NodeStatus::Invalid ? tr("invalid") : tr("no shape"));
      row->setToolTip(kBlock, why);
      row->setToolTip(kOutput, why);
      for (int c = 0; c < kColumns; ++c) row->setForeground(c, QColor(0xc6, 0x28, 0x28));
    }
    rows.push_back(row);
  }
  addTopLevelItems(rows);
  for (auto* row : rows)
    if (expanded.contains(row->data(kBlock, Qt::UserRole + 1).toString())) row->setExpanded(true);
  setSortingEnabled(true);
  sortByColumn(sort_col, order);
  setUpdatesEnabled(true);
  syncing_ = false;
  syncSelectionFromDocument();
  updateFrozen();
}

void CostTable::syncSelectionFromDocument() {
  if (syncing_) return;
  syncing_ = true;
  clearSelection();
  QTreeWidgetItem* first = nullptr;
  for (const auto& id : doc_->selection())
    if (QTreeWidgetItem* row = blockRow(id)) {
      row->setSelected(true);
      if (!first) first = row;
    }
  if (first) scrollToItem(first);
  syncing_ = false;
}

QString CostTable::toCsv() const {
  QStringList lines;
  QStringList head{"level"};
  for (int c = 0; c < kColumns; ++c) head << csv_field(headerItem()->text(c));
  lines << head.join(',');
  auto line = [&](const QTreeWidgetItem* row, const char* level) {
    QStringList f{level};
    for (int c = 0; c < kColumns; ++c) {
      const QVariant v = row->data(c, Qt::UserRole);
      // Raw numbers (not the thousands-separated display) so spreadsheets read them.
      f << csv_field(v.isValid() && c != kBlock ? QString::number(v.toDouble(), 'g', 10) : row->text(c));
    }
    lines << f.join(',');
  };
  for (int i = 0; i < topLevelItemCount(); ++i) {
    const QTreeWidgetItem* row = topLevelItem(i);
    line(row, "block");
    for (int k = 0; k < row->childCount(); ++k) line(row->child(k), "op");
  }
  return lines.join('\n') + '\n';
}

void CostTable::copyCsv() const { QApplication::clipboard()->setText(toCsv()); }

}  // namespace convscope::gui
