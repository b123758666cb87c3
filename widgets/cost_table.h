#pragma once
/// The cost table: one row per block, expandable to its ops, with output shape,
/// parameters, MAdds and share, memory, weight bytes, arithmetic intensity,
/// predicted latency and (after a profile) measured median, min, p90 and
/// measured/predicted. Sortable by any column; selection follows the canvas.

#include <QTreeWidget>

#include "document.h"

namespace convscope::gui {

class CostTable : public QTreeWidget {
  Q_OBJECT

 public:
  enum Column {
    kBlock,
    kKind,
    kOutput,
    kParams,
    kMAdds,
    kShare,
    kActivations,
    kWeights,
    kIntensity,
    kPredicted,
    kBound,
    kMeasured,
    kMin,
    kP90,
    kRatio,
    kColumns
  };
  explicit CostTable(Document* doc, QWidget* parent = nullptr);
  /// The whole table as CSV (header + one line per block and per op).
  [[nodiscard]] QString toCsv() const;
  /// The top-level row of block `id`, or nullptr.
  [[nodiscard]] QTreeWidgetItem* blockRow(const std::string& id) const;

 public slots:
  void copyCsv() const;

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  void rebuild();
  /// The Block column kept in view over the left edge while the table scrolls sideways.
  void updateFrozen();
  void syncSelectionFromDocument();
  Document* doc_;
  bool syncing_ = false;
  QTreeView* frozen_ = nullptr;
};

}  // namespace convscope::gui
