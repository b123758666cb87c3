#pragma once
/// The sweep's charts, as tabs: latency (or parameters) over MAdds with one curve
/// per α and parameter combination and the Pareto front ringed, and an α ×
/// resolution heat map with a choice of parameter values. Hovering a point shows
/// its figures; clicking it (double-clicking a heat-map cell) asks to open it.
/// Shows a sweep::Session; holds no sweep data of its own beyond what it drew.

#include <QPointF>
#include <QStringList>
#include <QTabWidget>
#include <cstddef>
#include <optional>
#include <vector>

#include "sweep/session.h"

class QComboBox;
class QCPColorMap;
class QCPColorScale;
class QCPTextElement;
class QCustomPlot;
class QLabel;
class QMouseEvent;

namespace convscope::gui {

class SweepCharts : public QTabWidget {
  Q_OBJECT

 public:
  static constexpr int kScatterTab = 0;  ///< latency (or parameters) over MAdds
  static constexpr int kHeatmapTab = 1;  ///< α × resolution

  explicit SweepCharts(QWidget* parent = nullptr);

  /// Draws `session` (nullptr: nothing to show). `measured`: the sweep measured latency.
  void showSession(const sweep::Session* session, bool measured);
  /// The chart of tab `tab` (objectNames "sweepScatter", "sweepHeatmap"), or nullptr.
  [[nodiscard]] QCustomPlot* chart(int tab) const;
  /// Saves the chart shown: .png, .svg or .pdf by suffix; false + message on failure.
  bool exportCurrent(const QString& path, QString* error);

 Q_SIGNALS:
  /// The user clicked point `index` of the session shown.
  void openRequested(std::size_t index);

 private:
  struct HoverPoint {
    double key = 0, value = 0;
    std::size_t index = 0;  ///< into the session's points
  };
  void fillScatter();
  void fillHeatmap();
  void fillSliceChoices();
  [[nodiscard]] std::optional<std::size_t> pointAt(int tab, QPointF pos) const;
  void showHover(int tab, QMouseEvent* event);
  void openAt(int tab, QMouseEvent* event);
  /// The latency shown for a point: measured when any point is, else predicted; none without either.
  [[nodiscard]] std::optional<double> latency(const sweep::Point& p) const;

  QCustomPlot* scatter_;
  QCPTextElement* scatter_title_;
  QCustomPlot* heatmap_;
  QCPTextElement* heatmap_title_;
  QCPColorMap* colour_map_;
  QCPColorScale* colour_scale_;
  QComboBox* slice_;
  QLabel* slice_label_;

  const sweep::Session* session_ = nullptr;  ///< what was drawn; valid until the next show()
  bool measured_ = false;
  bool by_measured_ = false;  ///< some point is measured: charts show measured latency (else predicted)
  bool by_latency_ = false;   ///< some point has a latency to show
  QStringList axes_;          ///< parameter axes as named
  QStringList combo_names_;   ///< per grid combination ("expansion=4")
  std::vector<HoverPoint> scatter_hover_;
  std::vector<std::optional<std::size_t>> heatmap_cells_;  ///< alpha-major: the point shown in each cell
};

}  // namespace convscope::gui
