#include "plot_layout.h"

#include "qcustomplot.h"

namespace convscope::gui {

QCustomPlot* make_titled_plot(QWidget* parent, const QString& name, QCPTextElement** title, bool legend) {
  auto* p = new QCustomPlot(parent);
  p->setObjectName(name);
  p->setMouseTracking(true);
  p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom | QCP::iSelectPlottables);
  p->legend->setVisible(legend);
  QFont legend_font = p->legend->font();
  legend_font.setPointSizeF(legend_font.pointSizeF() * 0.9);
  p->legend->setFont(legend_font);
  p->legend->setBrush(QColor(255, 255, 255, 220));
  p->plotLayout()->insertRow(0);
  QFont title_font = p->font();
  title_font.setBold(true);
  *title = new QCPTextElement(p, QString(), title_font);
  p->plotLayout()->addElement(0, 0, *title);
  return p;
}

void legend_beside(QCustomPlot* plot) {
  QCPAxisRect* rect = plot->axisRect();
  if (!rect->insetLayout()->take(plot->legend)) return;
  // The axis rect's cell: the last row of the plot layout, column 0.
  const int row = plot->plotLayout()->rowCount() - 1;
  auto* side = new QCPLayoutGrid;
  plot->plotLayout()->addElement(row, 1, side);
  plot->plotLayout()->setColumnStretchFactor(1, 0.001);
  side->addElement(0, 0, plot->legend);
  side->addElement(1, 0, new QCPLayoutElement(plot));  // the rest of the height: the legend stays at the top
  side->setRowStretchFactor(0, 0.001);
  side->setRowStretchFactor(1, 1);
  plot->legend->setFillOrder(QCPLegend::foRowsFirst);
  plot->legend->setMargins(QMargins(6, 4, 6, 4));
}

void legend_above(QCustomPlot* plot) {
  if (!plot->axisRect()->insetLayout()->take(plot->legend)) return;
  plot->plotLayout()->insertRow(1);
  plot->plotLayout()->addElement(1, 0, plot->legend);
  plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
  plot->plotLayout()->setRowStretchFactor(1, 0.001);
}

}  // namespace convscope::gui
