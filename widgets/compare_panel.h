#pragma once
/// The block comparison: every block kind that can map one input shape to an
/// output channel count with a stride and kernel size, side by side with its
/// weights, MAdds, peak memory and ratios to the standard convolution (counted,
/// the paper's closed form and, after "Measure", measured on this machine).
/// Counting is synchronous and follows every control change; measuring runs
/// each block's two-node graph through a ProfileRunner, one after the other.

#include <QWidget>
#include <cstddef>
#include <vector>

#include "cost/compare.h"
#include "document.h"
#include "profile_runner.h"

class QCustomPlot;
class QCPBarsGroup;
class QLabel;
class QMouseEvent;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QSplitter;
class QTableWidget;

namespace convscope::gui {

class ComparePanel : public QWidget {
  Q_OBJECT

 public:
  /// Column indices of the table.
  enum Column {
    kBlockColumn = 0,
    kWeightsColumn,
    kMAddsColumn,
    kMemoryColumn,
    kMAddsRatioColumn,
    kTheoryColumn,
    kLatencyColumn,
    kMeasuredRatioColumn,
    kColumnCount
  };

  /// The comparison view; `doc` is kept for the main window's sake (the comparison
  /// does not depend on the open design).
  explicit ComparePanel(Document* doc, QWidget* parent = nullptr);
  /// Disconnects from the runner, which then cancels and waits for a running job.
  ~ComparePanel() override;

  /// The document the panel was made for (the comparison itself does not read it).
  [[nodiscard]] Document* document() const { return doc_; }

  /// The comparison table (objectName "compareTable"), one row per block kind.
  [[nodiscard]] QTableWidget* table() const { return table_; }
  /// The ratio chart (objectName "comparePlot").
  [[nodiscard]] QCustomPlot* plot() const { return plot_; }
  /// True while "Measure" is running.
  [[nodiscard]] bool measuring() const { return measuring_; }
  /// The rows shown (as last computed from the controls).
  [[nodiscard]] const std::vector<cost::CompareRow>& rows() const { return rows_; }
  /// Measured network median per row in nanoseconds (0: not measured).
  [[nodiscard]] const std::vector<double>& measuredNs() const { return measured_ns_; }

  /// Starts measuring every evaluable row (does nothing while measuring).
  void measure();
  /// Stops a measurement; `measured` follows once the running job has ended.
  void cancel();

 Q_SIGNALS:
  /// Every row has been measured, or the measurement was cancelled or stopped.
  void measured();

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  void recompute();
  void fillTable();
  void fillPlot();
  void startNext();
  void onFinished(const std::shared_ptr<const ProfileData>& result);
  void onFailed(const QString& message);
  void onProgress(double fraction, const QString& stage);
  void finishMeasuring(const QString& status);
  void setControlsEnabled(bool enabled);
  void showHover(QMouseEvent* event);
  /// Index of the standard convolution row (the ratios' reference), or -1.
  [[nodiscard]] int referenceRow() const;

  Document* doc_;
  QSpinBox* height_;
  QSpinBox* width_;
  QSpinBox* in_channels_;
  QSpinBox* out_channels_;
  QSpinBox* stride_;
  QSpinBox* kernel_;
  QPushButton* measure_;
  QPushButton* cancel_;
  QProgressBar* progress_;
  QLabel* status_;
  QTableWidget* table_;
  QCustomPlot* plot_;
  QSplitter* splitter_ = nullptr;
  QCPBarsGroup* group_;
  ProfileRunner* runner_;

  ir::Shape in_;
  std::vector<cost::CompareRow> rows_;
  std::vector<double> measured_ns_;  ///< per row
  std::vector<QString> failures_;    ///< per row: why its measurement failed
  std::vector<std::size_t> queue_;   ///< rows still to measure, in order
  std::size_t current_ = 0;          ///< row being measured
  std::size_t total_ = 0;            ///< rows in this measurement
  bool measuring_ = false;
  bool cancelled_ = false;
};

}  // namespace convscope::gui
