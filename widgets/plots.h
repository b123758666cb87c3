#pragma once
/// The plots of a profile: latency per layer (measured beside the roofline
/// prediction), the roofline itself (achieved GFLOP/s over arithmetic intensity
/// under the machine's compute and bandwidth ceilings) and latency over MAdds
/// with its correlation. Without a profile the per-layer tab shows the roofline
/// prediction of the current analysis. Hovering a point or bar names its layer.

#include <QPointF>
#include <QString>
#include <QTabWidget>
#include <array>
#include <string>
#include <vector>

#include "document.h"

class QCustomPlot;
class QCPBarsGroup;
class QCPTextElement;
class QMouseEvent;

namespace convscope::gui {

/// Pearson's correlation coefficient of the pairs (x[i], y[i]); 0 for fewer than
/// two pairs, unequal lengths or zero variance in either coordinate.
double pearson(const std::vector<double>& x, const std::vector<double>& y);

/// Saves `plot` as .png, .svg or .pdf (by suffix) with `title` in the file's
/// metadata; a plot never shown is saved at 900 x 600. On failure returns false
/// and puts the reason in `*error` (when given).
bool savePlot(QCustomPlot* plot, const QString& path, const QString& title, QString* error);

class PlotsPanel : public QTabWidget {
  Q_OBJECT

 public:
  /// Tab index of the per-layer latency bars.
  static constexpr int kLayerTab = 0;
  /// Tab index of the roofline.
  static constexpr int kRooflineTab = 1;
  /// Tab index of latency over MAdds.
  static constexpr int kScatterTab = 2;

  /// Builds the three tabs for `doc` and follows its changes and profiles.
  explicit PlotsPanel(Document* doc, QWidget* parent = nullptr);

  /// Rebuilds every plot from the document (profile, analysis and calibration).
  void refresh();
  /// The plot of tab `tab` (kLayerTab, kRooflineTab, kScatterTab), or nullptr when out of range.
  [[nodiscard]] QCustomPlot* plot(int tab) const;
  /// Points in the per-layer measured series: one per plan step of the profile (0 without a profile).
  [[nodiscard]] int layerPointCount() const { return layer_points_; }
  /// Saves the current tab's plot: .png, .svg or .pdf by suffix; false + message on failure.
  bool exportCurrent(const QString& path, QString* error);

 private:
  /// One hoverable datum: its plot coordinates and the tooltip naming it.
  struct HoverPoint {
    double key = 0;
    double value = 0;
    QString text;
    std::string block;  ///< graph node id (clicking selects it)
  };
  /// What a plot's tooltips look up.
  struct Hover {
    std::vector<HoverPoint> points;
    /// Bars: a point covers its whole column (key +- 0.5) below its value.
    bool columns = false;
  };

  void onDocumentChanged();
  void rebuildLayers();
  void rebuildRoofline();
  void rebuildScatter();
  /// Title text of `tab` with a note when the profile is of an older graph.
  void setTitle(int tab, const QString& text);
  /// The datum under `pos` (widget pixels) in tab `tab`, or nullptr.
  [[nodiscard]] const HoverPoint* hoverAt(int tab, QPointF pos) const;
  void showHover(int tab, QMouseEvent* event);
  void selectAt(int tab, QMouseEvent* event);

  Document* doc_;
  std::array<QCustomPlot*, 3> plots_{};
  std::array<QCPTextElement*, 3> titles_{};
  std::array<QString, 3> title_texts_;
  std::array<Hover, 3> hover_;
  QCPBarsGroup* layer_group_ = nullptr;
  int layer_points_ = 0;
  bool stale_ = false;
};

}  // namespace convscope::gui
