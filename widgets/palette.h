#pragma once
/// The block palette: every kind in the engine's registry, grouped by category,
/// with an icon, a tooltip giving its summary, reference, parameters and closed
/// form, and a filter box. Items are dragged onto the canvas (MIME kKindMime);
/// double-click (or Enter) adds the kind after the selected block.

#include <QWidget>

class QLineEdit;
class QTreeWidget;
class QTreeWidgetItem;

namespace convscope::gui {

class Palette : public QWidget {
  Q_OBJECT

 public:
  explicit Palette(QWidget* parent = nullptr);
  /// Shows only kinds whose name, title or summary contains `text`.
  void setFilter(const QString& text);
  [[nodiscard]] QTreeWidget* tree() const { return tree_; }
  /// Number of kinds currently shown.
  [[nodiscard]] int visibleKinds() const;

 signals:
  /// A kind was activated (double-click or Enter).
  void activated(const QString& kind);

 private:
  QLineEdit* filter_;
  QTreeWidget* tree_;
};

}  // namespace convscope::gui
