// The inspector: the selected block's editors (one per parameter, its type and range
// from the block registry), its costs and problems, its connectivity map. Over 500
// lines because rebuild() lays out every parameter type's editor in one place (so
// they look and commit alike); splitting it would scatter one form over files.
#include "inspector.h"

#include <limits>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>
#include <climits>

#include "blocks/registry.h"
#include "io/report.h"
#include "qt_strings.h"

namespace convscope::gui {
namespace {

int to_int(double v) {
  return static_cast<int>(std::clamp(v, static_cast<double>(INT_MIN), static_cast<double>(INT_MAX)));
}

QString ns_text(double ns) {
  if (ns <= 0) return QStringLiteral("—");
  if (ns < 1e6) return QString::number(ns / 1e3, 'f', 1) + " µs";
  return QString::number(ns / 1e6, 'f', 3) + " ms";
}

/// The cost table's label: it takes the dock's width and wraps its cells
/// (without, a long row such as "measured 4.5 µs (min 4.2 µs, p90 5.1 µs)"
/// widened the panel past the dock and cut off every value on the right).
QLabel* costs_label() {
  auto* l = new QLabel;
  l->setObjectName("costs");
  l->setTextInteractionFlags(Qt::TextSelectableByMouse);
  l->setWordWrap(true);
  l->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  return l;
}

}  // namespace

// ---------------------------------------------------------------- ConnectivityMap

ConnectivityMap::ConnectivityMap(QWidget* parent) : QWidget(parent) {
  setMinimumSize(160, 160);
  setObjectName("connectivityMap");
}

void ConnectivityMap::setConnectivity(const std::optional<cost::Connectivity>& c) {
  c_ = c;
  update();
}

void ConnectivityMap::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  if (!c_ || c_->in_channels == 0 || c_->out_channels == 0) return;
  const int side = std::min(width(), height()) - 24;
  const QRect area(20, 4, side, side);
  // One image pixel per channel pair; scaled into the square (nearest neighbour keeps the block pattern crisp).
  QImage img(static_cast<int>(c_->in_channels), static_cast<int>(c_->out_channels), QImage::Format_RGB32);
  for (std::int64_t o = 0; o < c_->out_channels; ++o)
    for (std::int64_t i = 0; i < c_->in_channels; ++i) {
      const int n = c_->at(o, i);
      const QRgb colour = n == 0 ? qRgb(0xff, 0xff, 0xff) : n == 1 ? qRgb(0x15, 0x65, 0xc0) : qRgb(0xff, 0x8f, 0x00);
      img.setPixel(static_cast<int>(i), static_cast<int>(o), colour);
    }
  p.drawImage(area, img);
  p.setPen(palette().text().color());
  p.drawRect(area.adjusted(0, 0, -1, -1));
  QFont f = font();
  f.setPointSizeF(7.5);
  p.setFont(f);
  p.drawText(QRect(area.left(), area.bottom() + 2, area.width(), 16), Qt::AlignCenter,
             tr("input channel (%1)").arg(c_->in_channels));
  p.save();
  p.translate(14, area.center().y());
  p.rotate(-90);
  p.drawText(QRect(-area.height() / 2, -12, area.height(), 14), Qt::AlignCenter,
             tr("output channel (%1)").arg(c_->out_channels));
  p.restore();
}

// ---------------------------------------------------------------- Inspector

Inspector::Inspector(Document* doc, QWidget* parent) : QWidget(parent), doc_(doc), outer_(new QVBoxLayout(this)) {
  setObjectName("inspector");
  outer_->setContentsMargins(0, 0, 0, 0);
  connect(doc_, &Document::changed, this, &Inspector::refresh);
  connect(doc_, &Document::selectionChanged, this, &Inspector::refresh);
  connect(doc_, &Document::profileChanged, this, &Inspector::refresh);
  refresh();
}

QWidget* Inspector::editor(const QString& name) const {
  auto it = editors_.find(name.toStdString());
  return it == editors_.end() ? nullptr : it->second;
}

void Inspector::refresh() {
  const auto& sel = doc_->selection();
  std::string id, kind;
  if (sel.size() == 1) {
    const int i = doc_->graph().find(sel[0]);
    if (i >= 0) {
      id = sel[0];
      kind = doc_->graph().nodes[static_cast<std::size_t>(i)].kind;
    }
  }
  if (!body_ || id != id_ || kind != kind_ || id.empty()) {
    id_ = id;
    kind_ = kind;
    rebuild();
  }
  updateValues();
}

void Inspector::commit(const std::string& name, const std::optional<ir::ParamValue>& value) {
  if (id_.empty()) return;
  auto ok = doc_->setParam(id_, name, value);
  if (!ok) emit message(describe(ok.error()));
}

void Inspector::rebuild() {
  editors_.clear();
  autoBoxes_.clear();
  widthRule_ = nullptr;
  idEdit_ = nullptr;
  problems_ = costs_ = formula_ = connectivityCaption_ = nullptr;
  connectivity_ = nullptr;
  if (body_) {
    // Deleted later (a signal from inside it may have led here), but out of the widget tree at once.
    outer_->removeWidget(body_);
    body_->hide();
    body_->setParent(nullptr);
    body_->deleteLater();
  }
  auto* scroll = new QScrollArea;
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  auto* content = new QWidget;
  auto* v = new QVBoxLayout(content);
  scroll->setWidget(content);
  body_ = scroll;
  outer_->addWidget(body_);

  const auto& sel = doc_->selection();
  if (id_.empty()) {
    const auto& g = doc_->graph();
    QString text;
    if (sel.size() > 1) {
      text = tr("<b>%1 blocks selected</b>").arg(sel.size());
    } else {
      text = tr("<b>%1</b>").arg(qs(g.name).toHtmlEscaped());
      if (!g.description.empty()) text += "<br>" + qs(g.description).toHtmlEscaped();
      text += "<br><br>" + tr("Select a block to edit its parameters; drag blocks from the palette onto the canvas "
                              "or onto an edge to insert them.");
    }
    auto* label = new QLabel(text);
    label->setWordWrap(true);
    label->setObjectName("summary");
    v->addWidget(label);
    costs_ = costs_label();
    v->addWidget(costs_);
    v->addStretch();
    return;
  }

  const auto* kind = blocks::Registry::builtin().find(kind_);
  auto* head = new QFormLayout;
  idEdit_ = new QLineEdit(qs(id_));
  idEdit_->setObjectName("blockId");
  connect(idEdit_, &QLineEdit::editingFinished, this, [this] {
    const std::string next = idEdit_->text().trimmed().toStdString();
    if (next == id_) return;
    auto ok = doc_->renameBlock(id_, next);
    if (!ok) {
      emit message(describe(ok.error()));
      idEdit_->setText(qs(id_));
    }
  });
  head->addRow(tr("id"), idEdit_);
  if (kind) {
    auto* title =
        new QLabel(QStringLiteral("<b>%1</b><br><small>%2</small>")
                       .arg(qs(kind->info().title).toHtmlEscaped(), qs(kind->info().summary).toHtmlEscaped()));
    title->setWordWrap(true);
    title->setToolTip(qs(kind->info().reference));
    v->addLayout(head);
    v->addWidget(title);
  } else {
    v->addLayout(head);
  }

  problems_ = new QLabel;
  problems_->setObjectName("problems");
  problems_->setWordWrap(true);
  problems_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  problems_->setStyleSheet("QLabel { color: #c62828; background: #ffebee; padding: 4px; border-radius: 3px; }");
  problems_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  v->addWidget(problems_);

  if (kind && !kind->info().params.empty()) {
    auto* box = new QGroupBox(tr("Parameters"));
    auto* form = new QFormLayout(box);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    for (const auto& spec : kind->info().params) {
      const std::string name = spec.name;
      QWidget* ed = nullptr;
      switch (spec.type) {
        case ir::ParamType::Int:
        case ir::ParamType::Channels: {
          auto* sb = new QSpinBox;
          // Any integer can be typed: a value outside the schema's range reaches the
          // engine, which marks the block and says the range (the tooltip gives it too),
          // instead of the box silently reverting it.
          sb->setRange(std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
          sb->setKeyboardTracking(true);
          sb->setAccelerated(true);
          connect(sb, &QSpinBox::valueChanged, this,
                  [this, name](int value) { commit(name, ir::ParamValue{std::int64_t{value}}); });
          ed = sb;
          break;
        }
        case ir::ParamType::Float: {
          auto* sb = new QDoubleSpinBox;
          sb->setRange(-1e9, 1e9);  // as above: the engine reports values outside the schema's range
          sb->setDecimals(3);
          sb->setSingleStep(0.05);
          connect(sb, &QDoubleSpinBox::valueChanged, this,
                  [this, name](double value) { commit(name, ir::ParamValue{value}); });
          ed = sb;
          break;
        }
        case ir::ParamType::Bool: {
          auto* cb = new QCheckBox;
          connect(cb, &QCheckBox::toggled, this, [this, name](bool on) { commit(name, ir::ParamValue{on}); });
          ed = cb;
          break;
        }
        case ir::ParamType::Choice: {
          auto* cb = new QComboBox;
          for (const auto& c : spec.choices) cb->addItem(qs(c));
          connect(cb, &QComboBox::currentTextChanged, this,
                  [this, name](const QString& t) { commit(name, ir::ParamValue{t.toStdString()}); });
          ed = cb;
          break;
        }
        case ir::ParamType::Padding: {
          auto* cb = new QComboBox;
          cb->setEditable(true);
          cb->addItems({"same", "0", "1", "2", "3"});
          connect(cb, &QComboBox::currentTextChanged, this, [this, name](const QString& t) {
            bool is_int = false;
            const qlonglong n = t.trimmed().toLongLong(&is_int);
            if (t.trimmed() == "same")
              commit(name, ir::ParamValue{std::string("same")});
            else if (is_int)
              commit(name, ir::ParamValue{std::int64_t{n}});
            else
              emit message(tr("%1: enter a number of pixels or \"same\"").arg(qs(name)));
          });
          ed = cb;
          break;
        }
        case ir::ParamType::IntList: {
          // Committed when editing finishes; the engine names what is wrong with the list.
          auto* le = new QLineEdit;
          le->setPlaceholderText(tr("e.g. 4,4"));
          connect(le, &QLineEdit::editingFinished, this,
                  [this, name, le] { commit(name, ir::ParamValue{le->text().trimmed().toStdString()}); });
          ed = le;
          break;
        }
      }
      ed->setObjectName(qs(name));
      ed->setToolTip(QStringLiteral("%1<br><small>range %2, default %3</small>")
                         .arg(qs(spec.doc).toHtmlEscaped(), qs(ir::param_range_str(spec)).toHtmlEscaped(),
                              qs(ir::param_value_str(spec.def)).toHtmlEscaped()));
      editors_[name] = ed;
      auto* label = new QLabel(qs(name));
      label->setToolTip(ed->toolTip());
      if (spec.optional) {
        // Optional parameters can be left to the block ("auto"): the editor then shows the derived value.
        auto* row = new QWidget;
        auto* h = new QHBoxLayout(row);
        h->setContentsMargins(0, 0, 0, 0);
        auto* autoBox = new QCheckBox(tr("auto"));
        autoBox->setObjectName(qs(name) + "_auto");
        autoBox->setToolTip(tr("Let the block derive %1").arg(qs(name)));
        h->addWidget(ed, 1);
        h->addWidget(autoBox);
        autoBoxes_[name] = autoBox;
        connect(autoBox, &QCheckBox::toggled, this, [this, name, ed](bool on) {
          ed->setEnabled(!on);
          if (on) {
            commit(name, std::nullopt);
          } else if (auto* sb = qobject_cast<QSpinBox*>(ed)) {
            commit(name, ir::ParamValue{std::int64_t{sb->value()}});
          } else if (auto* le = qobject_cast<QLineEdit*>(ed)) {
            commit(name, ir::ParamValue{le->text().trimmed().toStdString()});
          }
        });
        form->addRow(label, row);
      } else {
        form->addRow(label, ed);
      }
    }
    auto* rule = new QComboBox;
    rule->setObjectName("widthRule");
    rule->addItem(tr("scale with α"), static_cast<int>(ir::WidthRule::Scale));
    rule->addItem(tr("fixed"), static_cast<int>(ir::WidthRule::Fixed));
    rule->addItem(tr("at least as given"), static_cast<int>(ir::WidthRule::AtLeast));
    rule->setToolTip(tr("How the width multiplier α acts on this block's channel counts"));
    connect(rule, &QComboBox::currentIndexChanged, this,
            [this, rule](int) { doc_->setWidthRule(id_, static_cast<ir::WidthRule>(rule->currentData().toInt())); });
    widthRule_ = rule;
    form->addRow(tr("width rule"), rule);
    v->addWidget(box);
  }

  auto* costBox = new QGroupBox(tr("Output and cost"));
  auto* cl = new QVBoxLayout(costBox);
  costs_ = costs_label();
  cl->addWidget(costs_);
  v->addWidget(costBox);

  auto* formulaBox = new QGroupBox(tr("Closed form"));
  auto* fl = new QVBoxLayout(formulaBox);
  formula_ = new QLabel;
  formula_->setObjectName("formula");
  formula_->setWordWrap(true);
  formula_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  formula_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  fl->addWidget(formula_);
  v->addWidget(formulaBox);

  const auto& rec = doc_->analysis().nodes[static_cast<std::size_t>(doc_->graph().find(id_))];
  if (rec.connectivity || kind_.rfind("igc", 0) == 0) {
    auto* box = new QGroupBox(tr("Channel connectivity"));
    auto* l = new QVBoxLayout(box);
    connectivity_ = new ConnectivityMap;
    connectivityCaption_ = new QLabel;
    connectivityCaption_->setWordWrap(true);
    connectivityCaption_->setObjectName("connectivityCaption");
    l->addWidget(connectivity_);
    l->addWidget(connectivityCaption_);
    v->addWidget(box);
  }
  v->addStretch();
  // Ctrl+Z / Ctrl+Shift+Z typed in a field go to the document's undo stack, not to
  // the field's own text undo (which would then be recorded as one more edit).
  // Spin boxes and combo boxes receive the shortcut check themselves (their line edit is a focus proxy).
  for (auto* w : body_->findChildren<QWidget*>())
    if (qobject_cast<QLineEdit*>(w) || qobject_cast<QAbstractSpinBox*>(w) || qobject_cast<QComboBox*>(w))
      w->installEventFilter(this);
}

bool Inspector::eventFilter(QObject* watched, QEvent* event) {
  if (event->type() == QEvent::ShortcutOverride) {
    auto* key = static_cast<QKeyEvent*>(event);
    const QKeyCombination combo = key->keyCombination();
    if (key->matches(QKeySequence::Undo) || key->matches(QKeySequence::Redo) ||
        combo == QKeyCombination(Qt::ControlModifier, Qt::Key_Y) ||
        combo == QKeyCombination(Qt::ControlModifier | Qt::ShiftModifier, Qt::Key_Z)) {
      // A line edit's text not yet committed (a list, the id) is committed first, so
      // that the undo reverts it like any other edit; spin boxes commit as they change.
      if (auto* le = qobject_cast<QLineEdit*>(watched);
          le && le->isModified() && !qobject_cast<QAbstractSpinBox*>(le->parent()) && !qobject_cast<QComboBox*>(le->parent()))
        emit le->editingFinished();
      return true;  // not accepted: the shortcut (Edit > Undo / Redo) runs
    }
  }
  return QWidget::eventFilter(watched, event);
}

void Inspector::updateValues() {
  const auto& a = doc_->analysis();
  const auto& t = a.totals;
  if (id_.empty()) {
    if (!costs_) return;
    // Totals of the selection, or of the whole graph.
    cost::Totals sum;
    const auto& sel = doc_->selection();
    if (sel.size() > 1) {
      for (const auto& s : sel)
        if (int i = doc_->graph().find(s); i >= 0) sum.add(a.nodes[static_cast<std::size_t>(i)].totals);
    } else {
      sum = t;
    }
    costs_->setText(tr("<table><tr><td>parameters&nbsp;</td><td align=right>%1</td></tr>"
                       "<tr><td>MAdds</td><td align=right>%2</td></tr>"
                       "<tr><td>weights</td><td align=right>%3</td></tr></table>")
                        .arg(qs(io::with_commas(sum.params)), qs(io::with_commas(sum.madds)),
                             qs(io::human(sum.weight_bytes, true))));
    return;
  }
  const int index = doc_->graph().find(id_);
  if (index < 0) return;
  const auto& node = doc_->graph().nodes[static_cast<std::size_t>(index)];
  const auto& rec = a.nodes[static_cast<std::size_t>(index)];
  const auto* kind = blocks::Registry::builtin().find(kind_);

  if (idEdit_ && !idEdit_->hasFocus()) idEdit_->setText(qs(id_));
  if (kind) {
    for (const auto& spec : kind->info().params) {
      QWidget* ed = editors_[spec.name];
      if (!ed) continue;
      const QSignalBlocker block(ed);
      auto given = node.params.find(spec.name);
      const bool is_auto = spec.optional && given == node.params.end();
      // Shown value: as given; for "auto", the value the block derived; else the default.
      ir::ParamValue value = spec.def;
      if (given != node.params.end()) {
        value = given->second;
      } else if (auto e = rec.effective.find(spec.name); e != rec.effective.end()) {
        value = e->second;
      } else if (auto d = rec.derived.find(spec.name); d != rec.derived.end()) {
        value = d->second;  // "auto": what the block derived (expanded = t * C_in)
      }
      if (auto* sb = qobject_cast<QSpinBox*>(ed)) {
        if (const auto* i = std::get_if<std::int64_t>(&value)) sb->setValue(to_int(static_cast<double>(*i)));
      } else if (auto* db = qobject_cast<QDoubleSpinBox*>(ed)) {
        if (const auto* d = std::get_if<double>(&value)) db->setValue(*d);
        if (const auto* i = std::get_if<std::int64_t>(&value)) db->setValue(static_cast<double>(*i));
      } else if (auto* cb = qobject_cast<QCheckBox*>(ed)) {
        if (const auto* b = std::get_if<bool>(&value)) cb->setChecked(*b);
      } else if (auto* combo = qobject_cast<QComboBox*>(ed)) {
        const QString text = qs(ir::param_value_str(value)).remove('"');
        if (combo->currentText() != text) combo->setCurrentText(text);
      } else if (auto* le = qobject_cast<QLineEdit*>(ed)) {
        const QString text = qs(ir::param_value_str(value)).remove('"');
        if (!le->hasFocus() && le->text() != text) le->setText(text);
      }
      if (auto it = autoBoxes_.find(spec.name); it != autoBoxes_.end()) {
        const QSignalBlocker b2(it->second);
        static_cast<QCheckBox*>(it->second)->setChecked(is_auto);
        ed->setEnabled(!is_auto);
      }
    }
  }
  if (widthRule_) {
    auto* rule = static_cast<QComboBox*>(widthRule_);
    const QSignalBlocker block(rule);
    rule->setCurrentIndex(rule->findData(static_cast<int>(node.width)));
  }

  problems_->setVisible(rec.status != cost::NodeStatus::Ok);
  if (rec.status == cost::NodeStatus::Invalid)
    problems_->setText(describe(rec.problems));
  else if (rec.status == cost::NodeStatus::Unresolved)
    problems_->setText(tr("No output shape: %1").arg(qs(rec.unresolved_because)));

  QString c;
  if (rec.status == cost::NodeStatus::Ok) {
    const double share = t.madds > 0 ? 100.0 * static_cast<double>(rec.totals.madds) / static_cast<double>(t.madds) : 0;
    QStringList ins;
    for (const auto& s : rec.in_shapes) ins << QStringLiteral("%1×%2×%3").arg(s.h).arg(s.w).arg(s.c);
    // A block run inside another's step has no time of its own: say whose step it is.
    const int host = doc_->stepHost(index);
    const QString in_host =
        host >= 0 ? tr("in %1's step").arg(qs(doc_->graph().nodes[static_cast<std::size_t>(host)].id).toHtmlEscaped())
                  : QString();
    c = tr("<table>"
           "<tr><td>input&nbsp;</td><td align=right>%1</td></tr>"
           "<tr><td>output</td><td align=right>%2×%3×%4</td></tr>"
           "<tr><td>parameters</td><td align=right>%5</td></tr>"
           "<tr><td>MAdds</td><td align=right>%6 (%7 %)</td></tr>"
           "<tr><td>activations</td><td align=right>%8</td></tr>"
           "<tr><td>weights</td><td align=right>%9</td></tr>"
           "<tr><td>intensity</td><td align=right>%10 FLOP/B</td></tr>"
           "<tr><td>predicted</td><td align=right>%11</td></tr>"
           "<tr><td>roofline bound</td><td align=right>%12</td></tr>")
            .arg(ins.join(", "))
            .arg(rec.out.h)
            .arg(rec.out.w)
            .arg(rec.out.c)
            .arg(qs(io::with_commas(rec.totals.params)), qs(io::with_commas(rec.totals.madds)))
            .arg(share, 0, 'f', 1)
            .arg(qs(io::human(rec.totals.activation_bytes, true)), qs(io::human(rec.totals.weight_bytes, true)))
            .arg(rec.totals.intensity(), 0, 'f', 1)
            .arg(host >= 0              ? in_host
                 : doc_->latencyModel() ? ns_text(doc_->predictedNs(index))
                                        : tr("no latency model"))
            .arg(host >= 0 ? in_host : ns_text(doc_->boundNs(index)));
    if (doc_->profileCurrent() && static_cast<std::size_t>(index) < doc_->profile()->summary.blocks.size()) {
      const auto& b = doc_->profile()->summary.blocks[static_cast<std::size_t>(index)];
      c += host >= 0 ? tr("<tr><td>measured</td><td align=right>%1</td></tr>").arg(in_host)
                     : tr("<tr><td>measured</td><td align=right>%1 (min %2, p90 %3)</td></tr>")
                           .arg(ns_text(b.median_ns), ns_text(b.min_ns), ns_text(b.p90_ns));
    }
    c += "</table>";
  } else {
    c = tr("no costs while the block is not valid");
  }
  costs_->setText(c);

  if (rec.formula) {
    QString notes;
    for (const auto& n : rec.formula->notes) notes += "<br><small>" + qs(n).toHtmlEscaped() + "</small>";
    formula_->setText(QStringLiteral("<code>%1</code><br><code>= %2</code><br><code>= %3</code> MAdds, %4 weights"
                                     "<br><small>%5</small>%6")
                          .arg(qs(rec.formula->symbolic).toHtmlEscaped(), qs(rec.formula->filled).toHtmlEscaped(),
                               qs(io::with_commas(rec.formula->madds)), qs(io::with_commas(rec.formula->weights)),
                               qs(rec.formula->legend).toHtmlEscaped(), notes));
  } else {
    formula_->setText(tr("—"));
  }
  if (connectivity_) {
    connectivity_->setConnectivity(rec.connectivity);
    if (rec.connectivity) {
      const auto& cn = *rec.connectivity;
      QString text;
      switch (cn.condition) {
        case cost::Complementary::Strict:
          text =
              tr("<b style='color:#2e7d32'>Complementary (strict)</b>: exactly one path from every input channel "
                 "to every output channel.");
          break;
        case cost::Complementary::Loose:
          text = tr("<b style='color:#ef6c00'>Dense but not strict</b>: every pair connected, some by up to %1 paths "
                    "(orange).")
                     .arg(cn.max_paths);
          break;
        case cost::Complementary::Broken:
          text =
              tr("<b style='color:#c62828'>Not complementary</b>: some output channels never see some input "
                 "channels (white)");
          if (cn.missing) text += tr(", e.g. input %1 → output %2").arg(cn.missing->first).arg(cn.missing->second);
          text += ".";
          break;
      }
      connectivityCaption_->setText(text);
    } else {
      connectivityCaption_->setText(
          tr("Connectivity is shown for valid blocks up to %1 channels.").arg(cost::kConnectivityChannelLimit));
    }
  }
}

}  // namespace convscope::gui
