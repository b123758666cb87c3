#pragma once
/// Where a plot's legend goes so that it never covers the data: one rule for
/// every chart in the app.

class QCustomPlot;

namespace convscope::gui {

/// The legend in a column of its own right of the axis rect, at the top, its
/// entries one under the other: for scatter plots and charts whose data fill
/// the whole axis rect (roofline, latency vs MAdds, block comparison).
void legend_beside(QCustomPlot* plot);
/// The legend in a row of its own between the title (row 0) and the axis rect,
/// its entries side by side: for wide bar charts (per-layer latency).
void legend_above(QCustomPlot* plot);

}  // namespace convscope::gui
