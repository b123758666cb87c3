#pragma once
/// The sweep view: a grid over the width multiplier α, the input resolution ρ and
/// optionally block parameters, evaluated by the engine (sweep::evaluate, on the
/// UI thread: thousands of points a second) and, on request, measured on a
/// worker thread (sweep::measure) with progress and cancel. Results appear in a
/// sortable table with the scaling laws and the Pareto front, in a latency (or
/// parameter) over MAdds chart with one curve per α, and in an α × ρ heat map.
/// Clicking a point opens that configuration of the graph the sweep ran on.

#include <QPointF>
#include <QString>
#include <QWidget>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "document.h"
#include "job.h"
#include "sweep/sweep.h"

class QCheckBox;
class QComboBox;
class QCPColorMap;
class QCPColorScale;
class QCPTextElement;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QMouseEvent;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTableWidget;

namespace convscope::gui {

class SweepPanel : public QWidget {
  Q_OBJECT

 public:
  /// Tab index of the latency (or parameters) over MAdds chart.
  static constexpr int kScatterTab = 0;
  /// Tab index of the α × resolution heat map.
  static constexpr int kHeatmapTab = 1;

  /// The sweep view of `doc`: the grid always runs on the document's graph as it is when "Run" is pressed.
  explicit SweepPanel(Document* doc, QWidget* parent = nullptr);
  /// Cancels a running measurement and waits for its worker to end.
  ~SweepPanel() override;

  /// Fills the grid editors: α list, resolution list or START:STOP:STEP, parameter axes
  /// ("NAME=V1,V2", several separated by ';', may be empty) and whether to measure latency.
  void setGrid(const QString& alphas, const QString& resolutions, const QString& param, bool measure);
  /// Starts a sweep of the grid in the editors. Returns false (status message in red, `finished(false)`)
  /// when the grid is refused or a sweep is already running (then without `finished`). Cost-only
  /// results are complete when this returns; measured latencies arrive later, then `finished`.
  bool run();
  /// Asks a running measurement to stop; the points measured so far are kept and `finished(false)` follows.
  void cancel();
  /// True while latencies are being measured.
  [[nodiscard]] bool running() const { return job_.running(); }
  /// The points of the last sweep (alpha-major, then resolution, then parameter values).
  [[nodiscard]] const std::vector<sweep::Point>& points() const { return points_; }
  /// The grid of the last sweep.
  [[nodiscard]] const sweep::Spec& spec() const { return spec_; }
  /// True when the last sweep measured (or started measuring) latency.
  [[nodiscard]] bool measured() const { return measured_; }
  /// The results table (objectName "sweepTable"), one row per point.
  [[nodiscard]] QTableWidget* table() const { return table_; }
  /// The chart of tab `tab` (kScatterTab "sweepScatter", kHeatmapTab "sweepHeatmap"), or nullptr.
  [[nodiscard]] QCustomPlot* chart(int tab) const;
  /// The chart tabs.
  [[nodiscard]] QTabWidget* charts() const { return charts_; }
  /// The status line as shown (errors included).
  [[nodiscard]] QString statusText() const;
  /// Writes the last sweep as CSV (sweep::to_csv) atomically to `path`; false + message on failure.
  bool exportCsv(const QString& path, QString* error);
  /// Saves the current chart: .png, .svg or .pdf by suffix; false + message on failure.
  bool exportChart(const QString& path, QString* error);
  /// Opens point `index` of the last sweep on the canvas (one undo step), applied to the graph the
  /// sweep ran on. False when there is no such point.
  bool openPoint(std::size_t index);

 Q_SIGNALS:
  /// A run ended: true when every point was evaluated (and measured, when asked); false when the
  /// grid was refused, the measurement was cancelled or it stopped on an error.
  void finished(bool complete);

 private:
  /// One point a chart can show a tooltip for.
  struct HoverPoint {
    double key = 0;
    double value = 0;
    std::size_t index = 0;  ///< into points_
  };

  /// Parses the editors into a spec; nullopt with `error` set when they are refused.
  std::optional<sweep::Spec> parseGrid(QString* error) const;
  /// Finds the distinct α, resolutions and parameter combinations of points_ and each point's cell.
  void indexGrid();
  void startMeasuring();
  void onProgress(std::size_t done, std::size_t total);
  void onMeasured();
  /// Marks the Pareto front (latency when measured, among the measured points) and the laws.
  void analyse();
  /// The costs of the points under the document's counting convention now (measured times kept).
  void recount();
  /// Drops the results (another design was opened); a running measurement is cancelled first.
  void clearResults();
  void refresh();
  void fillTable();
  void fillScatter();
  void fillHeatmap();
  void fillSliceChoices();
  void setStatus(const QString& text, bool error = false);
  void setControlsEnabled(bool enabled);
  [[nodiscard]] bool anyMeasured() const;
  [[nodiscard]] bool anyPredicted() const;
  /// The latency a chart shows for a point: measured when any point is, else
  /// predicted by the latency model, else none.
  [[nodiscard]] std::optional<double> shownLatency(const sweep::Point& p) const;
  [[nodiscard]] QString pointTitle(const sweep::Point& p) const;
  /// The point's parameter values ("expansion=4, kernel=5"; empty without parameter axes).
  [[nodiscard]] QString valuesText(const sweep::Point& p) const;
  [[nodiscard]] QString pointTooltip(std::size_t index) const;
  /// The point under `pos` (widget pixels) in chart `tab`, or nullopt.
  [[nodiscard]] std::optional<std::size_t> pointAt(int tab, QPointF pos) const;
  void showHover(int tab, QMouseEvent* event);
  void openAt(int tab, QMouseEvent* event);
  void exportCsvDialog();
  void exportChartDialog();

  Document* doc_;
  QLineEdit* alphas_;
  QLineEdit* resolutions_;
  QLineEdit* param_;
  QCheckBox* measure_;
  QSpinBox* threads_;
  int measured_threads_ = 1;  ///< threads of the last measurement
  QPushButton* run_button_;
  QPushButton* cancel_button_;
  QPushButton* export_csv_;
  QPushButton* export_chart_;
  QProgressBar* progress_;
  QLabel* status_;
  QTableWidget* table_;
  QTabWidget* charts_;
  QCustomPlot* scatter_;
  QCPTextElement* scatter_title_;
  QCustomPlot* heatmap_;
  QCPTextElement* heatmap_title_;
  QCPColorMap* colour_map_;
  QCPColorScale* colour_scale_;
  QComboBox* slice_;

  // The last sweep: the graph as it was when it started, its grid and its points.
  ir::Graph graph_;
  sweep::Spec spec_;
  std::vector<sweep::Point> points_;
  bool measured_ = false;
  bool drop_results_ = false;  ///< clear the results when the running measurement ends
  // The distinct grid positions of points_, in order of first appearance, and each point's position.
  std::vector<double> alpha_values_;
  std::vector<std::int64_t> resolution_values_;
  std::vector<QString> axis_names_;   ///< per parameter axis: its name as shown
  std::vector<QString> combo_names_;  ///< parameter value combinations ("expansion=4")
  struct Cell {
    std::size_t alpha = 0, resolution = 0, combo = 0;
  };
  std::vector<Cell> cells_;  ///< per point
  std::vector<HoverPoint> scatter_hover_;
  std::vector<std::optional<std::size_t>> heatmap_cells_;  ///< alpha-major: the point shown in each cell

  // The measurement: the worker writes work_*; the UI thread reads them once it has ended.
  std::vector<sweep::Point> work_points_;
  bool work_complete_ = false;
  QString work_error_;
  Job job_;  ///< last: destroyed first, so the worker has ended before what it writes goes
};

}  // namespace convscope::gui
