#pragma once
/// How the app's charts are made and where a plot's legend goes so that it never
/// covers the data: one rule for every chart in the app.

class QCustomPlot;
class QCPTextElement;
class QString;
class QWidget;

namespace convscope::gui {

/// A chart named `name` (for tests and style sheets) with a bold title row above
/// its axis rect (*title), mouse tracking for tooltips, drag and zoom, selectable
/// plottables and a translucent legend in a slightly smaller font (shown when
/// `legend` is true).
QCustomPlot* make_titled_plot(QWidget* parent, const QString& name, QCPTextElement** title, bool legend = true);

/// The legend in a column of its own right of the axis rect, at the top, its
/// entries one under the other: for scatter plots and charts whose data fill
/// the whole axis rect (roofline, latency vs MAdds, block comparison).
void legend_beside(QCustomPlot* plot);
/// The legend in a row of its own between the title (row 0) and the axis rect,
/// its entries side by side: for wide bar charts (per-layer latency).
void legend_above(QCustomPlot* plot);

}  // namespace convscope::gui
