#include "compression_dialog.h"

#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include "document.h"
#include "io/report.h"
#include "qt_strings.h"

namespace convscope::gui {
namespace {

enum Column { kLayer, kKind, kPrune, kWeights, kKept, kFillers, kDense, kPruned, kQuantised, kHuffman, kRatio, kColumns };

QString bytes(std::int64_t b) { return qs(io::with_commas(b)); }
QString mib(std::int64_t b) { return QString::number(static_cast<double>(b) / (1 << 20), 'f', 3) + " MiB"; }

QTableWidgetItem* number(const QString& text, double sort) {
  auto* it = new QTableWidgetItem(text);
  it->setData(Qt::UserRole, sort);
  it->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  it->setFlags(it->flags() & ~Qt::ItemIsEditable);
  return it;
}

}  // namespace

CompressionDialog::CompressionDialog(Document* doc, QWidget* parent) : QDialog(parent), doc_(doc) {
  setWindowTitle(tr("Deep Compression"));
  setObjectName("compressionDialog");
  auto* v = new QVBoxLayout(this);
  auto* intro = new QLabel(
      tr("Han et al. 2016 on this model's weights (imported, or the engine's deterministic ones): magnitude pruning, "
         "weight sharing by k-means, relative indices with filler zeros, Huffman coding. Edit a layer's prune ratio "
         "in the table to override the global one."));
  intro->setWordWrap(true);
  v->addWidget(intro);
  auto* row = new QHBoxLayout;
  auto* form = new QFormLayout;
  prune_ = new QDoubleSpinBox;
  prune_->setObjectName("prune");
  prune_->setRange(0.0, 0.99);
  prune_->setSingleStep(0.05);
  prune_->setDecimals(2);
  prune_->setValue(0.67);
  prune_->setToolTip(tr("share of every layer's weights removed, smallest magnitudes first"));
  form->addRow(tr("prune"), prune_);
  auto spin = [](const char* name, int value, const QString& tip) {
    auto* s = new QSpinBox;
    s->setObjectName(name);
    s->setRange(1, 16);
    s->setValue(value);
    s->setToolTip(tip);
    return s;
  };
  convBits_ = spin("convBits", 8, tr("shared-weight code bits for convolutions (the paper's 8)"));
  fcBits_ = spin("fcBits", 5, tr("shared-weight code bits for fully connected layers (the paper's 5)"));
  convIndex_ = spin("convIndexBits", 8, tr("relative-index bits for convolutions (the paper's 8)"));
  fcIndex_ = spin("fcIndexBits", 5, tr("relative-index bits for fully connected layers (the paper's 5)"));
  auto* bits = new QHBoxLayout;
  bits->addWidget(new QLabel(tr("conv")));
  bits->addWidget(convBits_);
  bits->addWidget(new QLabel(tr("fc")));
  bits->addWidget(fcBits_);
  form->addRow(tr("code bits"), bits);
  auto* index = new QHBoxLayout;
  index->addWidget(new QLabel(tr("conv")));
  index->addWidget(convIndex_);
  index->addWidget(new QLabel(tr("fc")));
  index->addWidget(fcIndex_);
  form->addRow(tr("index bits"), index);
  inputs_ = new QSpinBox;
  inputs_->setObjectName("inputs");
  inputs_->setRange(0, 64);
  inputs_->setValue(4);
  inputs_->setToolTip(tr("random inputs through both networks for the output drift (0: do not run)"));
  form->addRow(tr("drift inputs"), inputs_);
  row->addLayout(form);
  runButton_ = new QPushButton(tr("&Compress"));
  runButton_->setObjectName("compressRun");
  runButton_->setDefault(true);
  connect(runButton_, &QPushButton::clicked, this, &CompressionDialog::run);
  row->addWidget(runButton_, 0, Qt::AlignBottom);
  row->addStretch();
  v->addLayout(row);

  table_ = new QTableWidget(0, kColumns);
  table_->setObjectName("compressionTable");
  table_->setHorizontalHeaderLabels({tr("layer"), tr("kind"), tr("prune"), tr("weights"), tr("kept"), tr("fillers"),
                                     tr("dense B"), tr("pruned B"), tr("quantised B"), tr("Huffman B"), tr("ratio")});
  table_->verticalHeader()->setVisible(false);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(kLayer, QHeaderView::Stretch);
  table_->setAlternatingRowColors(true);
  v->addWidget(table_, 1);
  summary_ = new QLabel(tr("Set the ratios and press Compress."));
  summary_->setObjectName("compressionSummary");
  summary_->setWordWrap(true);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  v->addWidget(summary_);
  resize(980, 620);
}

compress::Options CompressionDialog::options() const {
  compress::Options o;
  o.prune = prune_->value();
  o.conv_bits = convBits_->value();
  o.fc_bits = fcBits_->value();
  o.conv_index_bits = convIndex_->value();
  o.fc_index_bits = fcIndex_->value();
  // Per-layer ratios edited in the table (those that differ from the global one).
  for (int r = 0; r < table_->rowCount(); ++r) {
    bool ok = false;
    const double p = table_->item(r, kPrune)->text().toDouble(&ok);
    if (ok && std::abs(p - o.prune) > 1e-9) o.prune_layer[table_->item(r, kLayer)->text().toStdString()] = p;
  }
  return o;
}

void CompressionDialog::run() {
  if (job_.running()) return;
  const ir::Graph g = doc_->graph();
  const auto named = doc_->importedWeights();
  const compress::Options o = options();
  const int inputs = inputs_->value();
  runButton_->setEnabled(false);
  summary_->setText(tr("Compressing..."));
  auto out = std::make_shared<Result<compress::Report>>(fail("", "not run"));
  job_.start([g, named, o, inputs, out](const std::atomic<bool>&, const Job::Progress&) {
    const auto a = cost::analyze(g);
    if (!a.complete()) {
      *out = fail("", "the graph has problems; fix them first:\n" + format_diagnostics(a.diagnostics));
      return;
    }
    if (auto fits = runtime::check_weight_memory(a, std::int64_t{4} << 30); !fits) {
      *out = tl::unexpected(fits.error());
      return;
    }
    *out = compress::deep_compress(g, a, runtime::Weights::with_named(g, a, named), o, inputs);
  });
  connect(
      &job_, &Job::finished, this,
      [this, out](const QString& error) {
        runButton_->setEnabled(true);
        show_result(error.isEmpty() ? *out : fail("", error.toStdString()));
        emit finished();
      },
      Qt::SingleShotConnection);
}

void CompressionDialog::show_result(const Result<compress::Report>& r) {
  if (!r) {
    summary_->setText("<span style='color:#c62828'>" + describe(r.error()).toHtmlEscaped() + "</span>");
    return;
  }
  table_->setSortingEnabled(false);
  table_->setRowCount(static_cast<int>(r->layers.size()));
  for (int i = 0; i < table_->rowCount(); ++i) {
    const auto& l = r->layers[static_cast<std::size_t>(i)];
    auto* name = new QTableWidgetItem(qs(l.name));
    name->setFlags(name->flags() & ~Qt::ItemIsEditable);
    table_->setItem(i, kLayer, name);
    auto* kind = new QTableWidgetItem(qs(l.kind) + QString(" %1/%2").arg(l.bits).arg(l.index_bits));
    kind->setFlags(kind->flags() & ~Qt::ItemIsEditable);
    table_->setItem(i, kKind, kind);
    auto* prune = new QTableWidgetItem(QString::number(l.prune, 'f', 2));
    prune->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    prune->setToolTip(tr("editable: this layer's prune ratio for the next run"));
    table_->setItem(i, kPrune, prune);
    const double kept = l.weights ? 100.0 * static_cast<double>(l.kept) / static_cast<double>(l.weights) : 0;
    table_->setItem(i, kWeights, number(bytes(l.weights), static_cast<double>(l.weights)));
    table_->setItem(i, kKept, number(QString::number(kept, 'f', 1) + " %", kept));
    table_->setItem(i, kFillers, number(bytes(l.fillers), static_cast<double>(l.fillers)));
    table_->setItem(i, kDense, number(bytes(l.dense_bytes), static_cast<double>(l.dense_bytes)));
    table_->setItem(i, kPruned, number(bytes(l.pruned_bytes), static_cast<double>(l.pruned_bytes)));
    table_->setItem(i, kQuantised, number(bytes(l.quantised_bytes), static_cast<double>(l.quantised_bytes)));
    table_->setItem(i, kHuffman, number(bytes(l.huffman_bytes), static_cast<double>(l.huffman_bytes)));
    const double ratio = l.huffman_bytes ? static_cast<double>(l.dense_bytes) / static_cast<double>(l.huffman_bytes) : 0;
    table_->setItem(i, kRatio, number(QString::number(ratio, 'f', 1) + "x", ratio));
  }
  const std::int64_t o = r->other_bytes, dense = r->dense_bytes + o;
  auto stage = [&](const QString& name, std::int64_t b) {
    return QStringLiteral("<tr><td>%1</td><td align=right>%2 B</td><td align=right>&nbsp;%3</td>"
                          "<td align=right>&nbsp;%4x</td></tr>")
        .arg(name, bytes(b), mib(b), QString::number(static_cast<double>(dense) / static_cast<double>(b), 'f', 1));
  };
  QString s = tr("<b>%1 of %2 weights kept</b> (%3 %); biases and batch norm (%4 B) stay fp32 in every stage.")
                  .arg(bytes(r->kept), bytes(r->weights))
                  .arg(100.0 * static_cast<double>(r->kept) / static_cast<double>(std::max<std::int64_t>(r->weights, 1)),
                       0, 'f', 1)
                  .arg(bytes(o));
  s += "<table>" + stage(tr("dense fp32"), dense) + stage(tr("pruned"), r->pruned_bytes + o) +
       stage(tr("quantised"), r->quantised_bytes + o) + stage(tr("Huffman-coded"), r->huffman_bytes + o) + "</table>";
  if (r->inputs > 0)
    s += tr("Output with compressed weights, %1 random inputs: max |diff| %2 (largest |output| %3), relative L2 %4, "
            "top-1 unchanged on %5 of %1. Untrained weights lose their function when pruned; Deep Compression "
            "retrains, this estimate does not.")
             .arg(r->inputs)
             .arg(r->max_abs_diff, 0, 'g', 4)
             .arg(r->output_scale, 0, 'g', 4)
             .arg(r->relative_l2, 0, 'g', 4)
             .arg(static_cast<int>(r->top1_agreement * r->inputs + 0.5));
  summary_->setText(s);
}

QString CompressionDialog::summary() const { return summary_->text(); }

}  // namespace convscope::gui
