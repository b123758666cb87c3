#pragma once
/// The inspector: editors generated from the selected block's parameter schema
/// (ranges, defaults, one-line docs), its problems, output shape and costs, its
/// closed-form formula with the numbers filled in, and for interleaved group
/// convolutions the channel connectivity as a heat map. Every change is an undo
/// step on the document and the numbers follow at once.

#include <QWidget>
#include <map>

#include "document.h"

class QFormLayout;
class QLabel;
class QLineEdit;
class QVBoxLayout;

namespace convscope::gui {

/// Paints a block's input-to-output channel connectivity (paths per pair).
class ConnectivityMap : public QWidget {
 public:
  explicit ConnectivityMap(QWidget* parent = nullptr);
  void setConnectivity(const std::optional<cost::Connectivity>& c);
  [[nodiscard]] QSize sizeHint() const override { return {220, 220}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  std::optional<cost::Connectivity> c_;
};

class Inspector : public QWidget {
  Q_OBJECT

 public:
  explicit Inspector(Document* doc, QWidget* parent = nullptr);
  /// The editor of parameter `name` of the shown block (nullptr if none).
  [[nodiscard]] QWidget* editor(const QString& name) const;
  /// The shown block's id (empty: none or several).
  [[nodiscard]] const std::string& blockId() const { return id_; }

 signals:
  void message(const QString& text);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void refresh();
  void rebuild();
  void updateValues();
  void commit(const std::string& name, const std::optional<ir::ParamValue>& value);

  Document* doc_;
  std::string id_, kind_;
  QWidget* body_ = nullptr;
  QVBoxLayout* outer_;
  QLineEdit* idEdit_ = nullptr;
  QLabel* problems_ = nullptr;
  QLabel* costs_ = nullptr;
  QLabel* formula_ = nullptr;
  ConnectivityMap* connectivity_ = nullptr;
  QLabel* connectivityCaption_ = nullptr;
  std::map<std::string, QWidget*> editors_;
  std::map<std::string, QWidget*> autoBoxes_;
  QWidget* widthRule_ = nullptr;
};

}  // namespace convscope::gui
