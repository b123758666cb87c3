#pragma once
/// A one-line label that shrinks: it asks for its whole text's width but accepts
/// less, eliding the end ("…"). The status bar's long totals would otherwise set
/// the window's minimum width.

#include <QLabel>
#include <QPainter>

namespace convscope::gui {

class ElidedLabel : public QLabel {
 public:
  using QLabel::QLabel;
  [[nodiscard]] QSize minimumSizeHint() const override {
    return {fontMetrics().averageCharWidth() * 8, QLabel::minimumSizeHint().height()};
  }

 protected:
  void paintEvent(QPaintEvent*) override {
    QPainter p(this);
    p.setPen(palette().color(foregroundRole()));  // follows a style sheet's colour
    const QRect r = contentsRect();
    const QString shown = fontMetrics().elidedText(text(), Qt::ElideRight, r.width());
    p.drawText(r, static_cast<int>(alignment()) | Qt::TextSingleLine, shown);
  }
};

}  // namespace convscope::gui
