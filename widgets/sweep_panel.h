#pragma once
/// The sweep view: editors for a grid over the width multiplier α, the input
/// resolution ρ and optionally block parameters; a sortable table of the points
/// with the scaling laws and the Pareto front; the SweepCharts beside it.
/// Clicking a point opens that configuration of the graph the sweep ran on.
/// The sweep itself (the engine's sweep::Session and the worker measuring it)
/// is a SweepRun; this view only starts it and shows it.

#include <QString>
#include <QWidget>
#include <cstddef>
#include <vector>

#include "document.h"
#include "sweep_charts.h"
#include "sweep_run.h"

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QLabel;
class QLineEdit;
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
  [[nodiscard]] bool running() const { return run_.running(); }
  /// The points of the last sweep (alpha-major, then resolution, then parameter values).
  [[nodiscard]] const std::vector<sweep::Point>& points() const;
  /// True when the last sweep measured (or started measuring) latency.
  [[nodiscard]] bool measured() const { return run_.measured(); }
  /// The results table (objectName "sweepTable"), one row per point.
  [[nodiscard]] QTableWidget* table() const { return table_; }
  /// The chart of tab `tab` (kScatterTab "sweepScatter", kHeatmapTab "sweepHeatmap"), or nullptr.
  [[nodiscard]] QCustomPlot* chart(int tab) const;
  /// The chart tabs.
  [[nodiscard]] QTabWidget* charts() const;
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
  /// The grid in the editors; its refusal as a message naming the editors.
  [[nodiscard]] Result<sweep::Spec> parseGrid() const;
  void onProgress(std::size_t done, std::size_t total);
  void onMeasured(bool complete, const QString& error, bool dropped);
  /// The costs of the points under the document's counting convention now (measured times kept).
  void recount();
  /// Drops the results (another design was opened); a running measurement is cancelled first.
  void clearResults();
  void refresh();
  void fillTable();
  void setStatus(const QString& text, bool error = false);
  void setControlsEnabled(bool enabled);
  void exportCsvDialog();
  void exportChartDialog();

  Document* doc_;
  SweepRun run_;
  QLineEdit* alphas_;
  QLineEdit* resolutions_;
  QLineEdit* param_;
  QCheckBox* measure_;
  QSpinBox* threads_;
  QComboBox* front_;
  QPushButton* run_button_;
  QPushButton* cancel_button_;
  QPushButton* export_csv_;
  QPushButton* export_chart_;
  QProgressBar* progress_;
  QLabel* status_;
  QTableWidget* table_;
  SweepCharts* charts_;
};

}  // namespace convscope::gui
