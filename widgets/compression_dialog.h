#pragma once
/// Tools > Deep Compression: the document's weights (imported, or the engine's
/// deterministic ones) through pruning, weight sharing and Huffman coding, run
/// off the UI thread; bytes per layer after each stage, the totals and how far
/// the output moves. The prune column is editable per layer.

#include <QDialog>
#include <memory>

#include "compress/deep_compression.h"
#include "job.h"

class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace convscope::gui {

class Document;

class CompressionDialog : public QDialog {
  Q_OBJECT

 public:
  CompressionDialog(Document* doc, QWidget* parent = nullptr);  ///< deleting it waits for a running job

  /// Starts a run with the current settings (the Run button).
  void run();
  [[nodiscard]] bool busy() const { return job_.running(); }
  [[nodiscard]] QTableWidget* table() const { return table_; }
  [[nodiscard]] QString summary() const;

 signals:
  void finished();

 private:
  void show_result(const Result<compress::Report>& r);
  [[nodiscard]] compress::Options options() const;

  Document* doc_;
  QDoubleSpinBox* prune_;
  QSpinBox *convBits_, *fcBits_, *convIndex_, *fcIndex_, *inputs_;
  QPushButton* runButton_;
  QTableWidget* table_;
  QLabel* summary_;
  Job job_;
};

}  // namespace convscope::gui
