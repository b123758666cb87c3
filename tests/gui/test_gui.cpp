// The desktop app, driven as a user would (QT_QPA_PLATFORM=offscreen): drops
// from the palette, splicing, connecting ports, inspector edits, undo/redo,
// files, profiling and cancelling. Values are checked against the engine's.
#include <QApplication>
#include <QCheckBox>
#include <QDockWidget>
#include <QScrollBar>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QScreen>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStatusBar>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QToolBar>
#include <QTreeWidget>
#include <QWidgetAction>
#include <random>
#include <set>

#include "blocks/registry.h"
#include "canvas.h"
#include "compare_panel.h"
#include "compression_dialog.h"
#include "cost_table.h"
#include "inspector.h"
#include "job.h"
#include "io/graph_json.h"
#include "io/report.h"
#include "layout.h"
#include "main_window.h"
#include "qt_strings.h"
#include "palette.h"
#include "plots.h"
#include "profile/speed_probe.h"
#include "profile_runner.h"
#include "runtime/schedule.h"
#include "qcustomplot.h"
#include "sweep/sweep.h"
#include "sweep_panel.h"

using namespace convscope;
using namespace convscope::gui;

namespace {


/// A graph of input -> conv -> conv (fast to profile).
/// A latency model where every plan step costs 1 us: predictions the tests can count.
profile::LatencyModel unit_model() { return profile::LatencyModel::per_step(1000.0); }

ir::Graph small_graph() {
  ir::Graph g;
  g.name = "small";
  g.nodes.push_back(
      {.id = "input",
       .kind = "input",
       .params = {{"height", std::int64_t{16}}, {"width", std::int64_t{16}}, {"channels", std::int64_t{8}}},
       .pos = edit::Pos{0, 0}});
  g.nodes.push_back({.id = "a",
                     .kind = "conv",
                     .inputs = {"input"},
                     .params = {{"out", std::int64_t{16}}},
                     .pos = edit::Pos{0, 150}});
  g.nodes.push_back(
      {.id = "b", .kind = "conv", .inputs = {"a"}, .params = {{"out", std::int64_t{16}}}, .pos = edit::Pos{0, 300}});
  return g;
}

/// Drops `kind` onto the canvas view at scene position `pos` through a real QDropEvent.
void drop_kind(MainWindow& w, const std::string& kind, QPointF pos) {
  CanvasView* view = w.view();
  const QPoint at = view->mapFromScene(pos);
  QMimeData mime;
  mime.setData(kKindMime, QByteArray::fromStdString(kind));
  QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(view->viewport(), &enter);
  QDragMoveEvent move(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(view->viewport(), &move);
  QDropEvent drop(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(view->viewport(), &drop);
}

/// Presses on scene point `a` and releases on `b` with the left button.
void drag(MainWindow& w, QPointF a, QPointF b) {
  QWidget* vp = w.view()->viewport();
  const QPoint pa = w.view()->mapFromScene(a), pb = w.view()->mapFromScene(b);
  QTest::mousePress(vp, Qt::LeftButton, Qt::NoModifier, pa);
  QMouseEvent move(QEvent::MouseMove, QPointF(pb), vp->mapToGlobal(QPointF(pb)), Qt::NoButton, Qt::LeftButton,
                   Qt::NoModifier);
  QApplication::sendEvent(vp, &move);
  QTest::mouseRelease(vp, Qt::LeftButton, Qt::NoModifier, pb);
}

QString saved(const Document& doc) { return qs(io::graph_to_json(doc.graph())); }

}  // namespace

class GuiTest : public QObject {
  Q_OBJECT

 private:
  std::unique_ptr<MainWindow> w_;
  QTemporaryDir tmp_;

  MainWindow& fresh(const ir::Graph& g, bool keep_settings = false) {
    if (!keep_settings) QSettings().remove("analysis");  // the paper's convention, ops memory view
    w_.reset();
    w_ = std::make_unique<MainWindow>(
        MainWindowOptions{.recover = false, .interactive = false, .calibrate_latency = false});
    w_->resize(1400, 900);
    w_->show();
    w_->document()->reset(g);
    w_->view()->fitAll();
    return *w_;
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    qputenv("CONVSCOPE_CACHE_DIR", tmp_.path().toUtf8());
  }
  void cleanup() { w_.reset(); }

  void opensMobileNetV2WithItsTotals() {
    MainWindow& w = fresh(ir::Graph{});
    QVERIFY(w.openPath("mobilenet_v2"));
    const auto& t = w.document()->analysis().totals;
    // The paper's count of MobileNetV2 1.0/224 (weights + biases, no batch norm): 3.47 M and 300.77 M.
    QCOMPARE(t.params, std::int64_t{3470760});
    QCOMPARE(t.madds, std::int64_t{300774272});
    QVERIFY2(w.totalsText().startsWith("3,470,760 params (paper) · 300,774,272 MAdds"), qPrintable(w.totalsText()));
    QCOMPARE(static_cast<std::size_t>(w.costTable()->topLevelItemCount()), w.document()->graph().nodes.size());
    // Every block has an item on the canvas.
    for (const auto& n : w.document()->graph().nodes) QVERIFY(w.scene()->nodeItem(n.id));
  }

  // View > Counting Convention and Peak Memory: the engine's switches, applied
  // to every view, remembered for the next window.
  void countingConventionAndMemoryView() {
    MainWindow& w = fresh(ir::Graph{});
    QVERIFY(w.openPath("mobilenet_v2"));
    auto* torchvision = w.findChild<QAction*>("convention_torchvision");
    auto* blocks = w.findChild<QAction*>("memory_blocks");
    QVERIFY(torchvision && blocks);
    QVERIFY(w.findChild<QAction*>("convention_paper")->isChecked());
    torchvision->trigger();
    // torchvision's sum of parameters() for mobilenet_v2 (batch norm counted): 3,504,872.
    QCOMPARE(w.document()->analysis().totals.params, std::int64_t{3504872});
    QVERIFY2(w.totalsText().startsWith("3,504,872 params (torchvision)"), qPrintable(w.totalsText()));
    QTreeWidgetItem* row = w.costTable()->blockRow("conv1");
    QVERIFY(row);
    const auto& conv1 = w.document()->analysis().nodes[static_cast<std::size_t>(w.document()->graph().find("conv1"))];
    QCOMPARE(conv1.totals.params, std::int64_t{864 + 64});  // weights + batch norm's scale and shift
    QCOMPARE(row->text(3).remove(','), QString::number(conv1.totals.params));
    blocks->trigger();
    cost::AnalysisOptions o;
    o.convention = *cost::find_convention("torchvision");
    o.memory_view = cost::MemoryView::Blocks;
    const auto want = cost::analyze(w.document()->graph(), o);
    QCOMPARE(w.document()->analysis().memory.peak_bytes, want.memory.peak_bytes);
    QVERIFY(want.memory.peak_bytes < cost::analyze(w.document()->graph()).memory.peak_bytes);
    QVERIFY2(w.totalsText().contains(qs(io::human(want.memory.peak_bytes, true)) + " (blocks)"),
             qPrintable(w.totalsText()));
    // Not an edit: nothing to undo, the file is unchanged.
    QVERIFY(!w.document()->isModified());
    // The next window starts with the same choice.
    MainWindow& again = fresh(ir::Graph{}, true);
    QVERIFY(again.openPath("mobilenet_v2"));
    QCOMPARE(again.document()->analysis().totals.params, std::int64_t{3504872});
    QVERIFY(again.findChild<QAction*>("memory_blocks")->isChecked());
  }

  // Issue 15.11, 15.12: Save As has its shortcut; dialogs suggest a safe name made
  // from the whole design name, in a folder (not cut at the slash of "1.0/224").
  void saveAsShortcutAndSuggestedNames() {
    MainWindow& w = fresh(ir::Graph{});
    auto* saveAs = w.findChild<QAction*>("saveAs");
    QVERIFY(saveAs);
    QCOMPARE(saveAs->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
    QCOMPARE(safeFileName("MobileNetV2 1.0/224"), QString("MobileNetV2_1.0_224"));
    QCOMPARE(safeFileName("../../etc/passwd"), QString("etc_passwd"));
    QCOMPARE(safeFileName("///"), QString("design"));
    QVERIFY(w.openPath("mobilenet_v2"));
    const QString onnx = w.suggestedPath(".onnx");
    QVERIFY2(onnx.endsWith("/MobileNetV2_1.0_224.onnx"), qPrintable(onnx));
    QVERIFY2(QFileInfo(onnx).isAbsolute(), qPrintable(onnx));
  }

  // Issue 15.4: an "auto" parameter shows the value the block derives, per block.
  void autoParameterShowsItsDerivedValue() {
    MainWindow& w = fresh(ir::Graph{});
    QVERIFY(w.openPath("mobilenet_v2"));
    Document& doc = *w.document();
    for (const auto& [id, expanded] : {std::pair{"ir4", 144}, std::pair{"ir15", 960}, std::pair{"ir2", 96}}) {
      doc.select({id});
      auto* e = qobject_cast<QSpinBox*>(w.inspector()->editor("expanded"));
      QVERIFY(e);
      QCOMPARE(e->value(), expanded);
      QVERIFY(!e->isEnabled());  // auto
    }
  }

  void opensEveryPresetInOneWindow() {
    MainWindow& w = fresh(small_graph());
    const QStringList presets = presetFiles();
    QVERIFY(presets.size() >= 10);
    for (const QString& p : presets) {
      QVERIFY2(w.openPath(p), qPrintable(p));
      QVERIFY(w.document()->analysis().complete());
      QCOMPARE(static_cast<std::size_t>(w.costTable()->topLevelItemCount()), w.document()->graph().nodes.size());
      for (const auto& n : w.document()->graph().nodes) QVERIFY(n.pos);  // laid out
    }
  }

  void dropsEveryRegisteredKindFromThePalette() {
    MainWindow& w = fresh(small_graph());
    const auto& kinds = blocks::Registry::builtin().kinds();
    // The palette lists every kind.
    QCOMPARE(w.palette()->visibleKinds(), static_cast<int>(kinds.size()));
    w.palette()->setFilter("inverted_residual");
    QCOMPARE(w.palette()->visibleKinds(), 1);
    w.palette()->setFilter("");
    double x = 600;
    for (const auto& k : kinds) {
      const std::size_t before = w.document()->graph().nodes.size();
      drop_kind(w, k->name(), QPointF(x, -400));
      x += 260;
      QCOMPARE(w.document()->graph().nodes.size(), before + 1);
      const auto& added = w.document()->graph().nodes.back();
      QCOMPARE(added.kind, k->name());
      QVERIFY(w.scene()->nodeItem(added.id));
      QCOMPARE(w.document()->selection(), std::vector<std::string>{added.id});
    }
    QCOMPARE(w.document()->undoStack()->count(), static_cast<int>(kinds.size()));
  }

  void splicesOntoAnEdge() {
    MainWindow& w = fresh(small_graph());
    EdgeItem* edge = nullptr;
    for (auto* e : w.scene()->edgeItems())
      if (e->to() == "b") edge = e;
    QVERIFY(edge);
    const QPointF mid = edge->path().pointAtPercent(0.5);
    drop_kind(w, "inverted_residual", mid);
    const auto& g = w.document()->graph();
    QCOMPARE(g.nodes.size(), std::size_t{4});
    const std::string id = g.nodes.back().id;
    QCOMPARE(g.nodes.back().inputs, std::vector<std::string>{"a"});
    QCOMPARE(g.nodes[2].inputs, std::vector<std::string>{id});
    QVERIFY(w.document()->analysis().complete());
  }

  // Issue 15.2: a spliced block takes the edge's channel count, so the block after
  // it keeps its input and its costs (MobileNetV2's ir5 keeps its 10,988,544 MAdds).
  void splicedBlockKeepsTheEdgesChannels() {
    MainWindow& w = fresh(ir::Graph{});
    QVERIFY(w.openPath("mobilenet_v2"));
    Document& doc = *w.document();
    const auto ir5 = [&] {
      const auto& a = doc.analysis();
      return a.nodes[static_cast<std::size_t>(doc.graph().find("ir5"))].totals.madds;
    };
    const std::int64_t before = ir5();
    QString note;
    auto id = doc.spliceBlock("inverted_residual", "ir5", 0, std::nullopt, &note);
    QVERIFY(id.has_value());
    QCOMPARE(ir5(), before);
    const auto& added = doc.graph().nodes[static_cast<std::size_t>(doc.graph().find(*id))];
    QCOMPARE(std::get<std::int64_t>(added.params.at("out")), std::int64_t{32});
    QVERIFY2(note.contains("out 32"), qPrintable(note));
    QVERIFY(doc.analysis().complete());
  }

  /// Pairs of blocks whose boxes overlap on the canvas ("a/b" each).
  static QStringList overlapping(const ir::Graph& g) {
    QStringList out;
    for (std::size_t i = 0; i < g.nodes.size(); ++i)
      for (std::size_t j = i + 1; j < g.nodes.size(); ++j) {
        const auto& a = *g.nodes[i].pos;
        const auto& b = *g.nodes[j].pos;
        if (std::abs(a[0] - b[0]) < kNodeWidth && std::abs(a[1] - b[1]) < kNodeHeight)
          out << qs(g.nodes[i].id + "/" + g.nodes[j].id);
      }
    return out;
  }

  // Issue 15.1: dropping onto the ir8 -> ir9 edge, and inserting from the palette
  // with a block selected, make room: nothing overlaps, the new block sits below
  // its input and the blocks downstream moved down.
  void insertingMakesRoom() {
    MainWindow& w = fresh(ir::Graph{});
    QVERIFY(w.openPath("mobilenet_v2"));
    Document& doc = *w.document();
    QVERIFY(overlapping(doc.graph()).isEmpty());
    const auto y_of = [&](const std::string& id) { return (*doc.graph().nodes[doc.graph().find(id)].pos)[1]; };
    const double ir9_before = y_of("ir9");
    EdgeItem* edge = nullptr;
    for (auto* e : w.scene()->edgeItems())
      if (e->to() == "ir9") edge = e;
    QVERIFY(edge);
    drop_kind(w, "separable", edge->path().pointAtPercent(0.5));
    const std::string spliced = doc.selection().at(0);
    QVERIFY2(overlapping(doc.graph()).isEmpty(), qPrintable(overlapping(doc.graph()).join(", ")));
    QVERIFY(y_of(spliced) > y_of("ir8"));
    QVERIFY(y_of("ir9") > ir9_before);
    QVERIFY(y_of("ir9") > y_of(spliced));

    doc.select({"ir3"});
    emit w.palette()->activated("depthwise");
    const std::string inserted = doc.selection().at(0);
    QVERIFY(inserted != "ir3");
    QCOMPARE(doc.graph().nodes[doc.graph().find("ir4")].inputs, std::vector<std::string>{inserted});
    QVERIFY2(overlapping(doc.graph()).isEmpty(), qPrintable(overlapping(doc.graph()).join(", ")));

    // At the end of the graph (no consumer): placed below, off everything.
    doc.select({"fc"});
    emit w.palette()->activated("activation");
    QVERIFY2(overlapping(doc.graph()).isEmpty(), qPrintable(overlapping(doc.graph()).join(", ")));
    QVERIFY(y_of(doc.selection().at(0)) > y_of("fc"));
  }

  // Issue 15.3: a long chain fills a landscape canvas in columns, every block
  // apart, and the start view shows it all with readable names.
  void longChainsWrapIntoColumns() {
    MainWindow& w = fresh(ir::Graph{});
    QVERIFY(w.openPath("mobilenet_v2"));
    const auto& g = w.document()->graph();
    std::set<double> columns;
    double top = 1e300, bottom = -1e300, left = 1e300, right = -1e300;
    for (const auto& n : g.nodes) {
      columns.insert((*n.pos)[0]);
      top = std::min(top, (*n.pos)[1]);
      bottom = std::max(bottom, (*n.pos)[1] + kNodeHeight);
      left = std::min(left, (*n.pos)[0]);
      right = std::max(right, (*n.pos)[0] + kNodeWidth);
    }
    QVERIFY2(columns.size() >= 3, qPrintable(QString::number(columns.size())));
    QVERIFY2(right - left > bottom - top, "a landscape layout");
    QVERIFY(overlapping(g).isEmpty());
    // The chain still reads in order: each block's input is above it or in the column before.
    for (const auto& n : g.nodes)
      for (const auto& in : n.inputs) {
        const auto& p = *g.nodes[g.find(in)].pos;
        QVERIFY2(p[1] < (*n.pos)[1] || p[0] < (*n.pos)[0], (in + " -> " + n.id).c_str());
      }
    w.view()->showStart();
    QVERIFY2(w.view()->zoom() >= 0.4, qPrintable(QString::number(w.view()->zoom())));

    // Ctrl+L lays it out again the same way, as one undo step.
    const int steps = w.document()->undoStack()->count();
    w.document()->autoLayout();
    QVERIFY(overlapping(w.document()->graph()).isEmpty());
    QVERIFY(w.document()->undoStack()->count() <= steps + 1);
  }

  // Issue 16.2: one runner for long work. Progress and the end arrive on the UI
  // thread, a throw becomes the error text, cancel stops the work, one run at a time.
  void jobRunsOffTheUiThreadAndReportsOnIt() {
    Job job;
    QSignalSpy progress(&job, &Job::progress), done(&job, &Job::finished);
    Qt::HANDLE worker = nullptr;
    QVERIFY(job.start([&](const std::atomic<bool>& cancel, const Job::Progress& report) {
      worker = QThread::currentThreadId();
      report(0.5, "half");
      while (!cancel) QThread::msleep(1);
    }));
    QVERIFY(job.running());
    QVERIFY(!job.start([](const std::atomic<bool>&, const Job::Progress&) {}));  // one at a time
    QTRY_COMPARE(progress.count(), 1);
    QCOMPARE(progress.first().at(1).toString(), QString("half"));
    job.cancel();
    QVERIFY(done.wait(5000));
    QCOMPARE(done.first().at(0).toString(), QString());
    QVERIFY(worker && worker != QThread::currentThreadId());
    QVERIFY(!job.running());

    QVERIFY(job.start([](const std::atomic<bool>&, const Job::Progress&) { throw std::runtime_error("disk full"); }));
    QVERIFY(done.wait(5000));
    QCOMPARE(done.last().at(0).toString(), QString("stopped: disk full"));
  }

  void connectsPortsAndRefusesInvalidConnections() {
    ir::Graph g = small_graph();
    g.nodes.push_back({.id = "sum", .kind = "add", .pos = edit::Pos{300, 450}});
    MainWindow& w = fresh(g);
    QSignalSpy messages(w.scene(), &CanvasScene::message);
    NodeItem* a = w.scene()->nodeItem("a");
    NodeItem* b = w.scene()->nodeItem("b");
    NodeItem* sum = w.scene()->nodeItem("sum");
    drag(w, a->outputPort(), sum->inputPort(0));
    drag(w, b->outputPort(), w.scene()->nodeItem("sum")->inputPort(1));
    const auto& n = w.document()->graph().nodes[3];
    QCOMPARE(n.inputs, (std::vector<std::string>{"a", "b"}));
    // a and b differ in shape? No: both 16x16x16, so the add is valid.
    QVERIFY(w.document()->analysis().complete());
    // b -> a would be a cycle: refused with the reason, graph unchanged.
    const QString before = saved(*w.document());
    drag(w, w.scene()->nodeItem("b")->outputPort(), w.scene()->nodeItem("a")->inputPort(0));
    QCOMPARE(saved(*w.document()), before);
    QVERIFY(!messages.isEmpty());
    QCOMPARE(messages.last().at(0).toString(),
             QString("Connection refused: would make a cycle: 'b' already depends on 'a'"));
  }

  void inspectorEditUpdatesStatusAndTableAndUndoIsExact() {
    MainWindow& w = fresh(small_graph());
    Document& doc = *w.document();
    const QString original = saved(doc);
    doc.select({"a"});
    auto* out = qobject_cast<QSpinBox*>(w.inspector()->editor("out"));
    QVERIFY(out);
    QCOMPARE(out->value(), 16);
    // Type "24" as a user would: the numbers follow every keystroke, one undo step in all.
    out->selectAll();
    QTest::keyClicks(out, "24");
    QCOMPARE(std::get<std::int64_t>(doc.graph().nodes[1].params.at("out")), std::int64_t{24});
    // Expected values straight from the engine for the edited graph.
    ir::Graph expect = small_graph();
    expect.nodes[1].params["out"] = std::int64_t{24};
    const auto ea = cost::analyze(expect);
    QCOMPARE(doc.analysis().totals.params, ea.totals.params);
    QVERIFY(w.totalsText().startsWith(qs(io::with_commas(ea.totals.params)) + " params (paper) · " +
                                      qs(io::with_commas(ea.totals.madds)) + " MAdds"));
    QTreeWidgetItem* row = w.costTable()->blockRow("a");
    QVERIFY(row);
    QCOMPARE(row->text(CostTable::kOutput), QString("16×16×24"));
    QCOMPARE(row->text(CostTable::kMAdds), qs(io::with_commas(ea.nodes[1].totals.madds)));
    QCOMPARE(doc.undoStack()->count(), 1);  // keystrokes merged
    QCOMPARE(doc.undoStack()->undoText(), QString("Set a.out = 24"));
    const QString edited = saved(doc);
    doc.undoStack()->undo();
    QCOMPARE(saved(doc), original);
    QCOMPARE(out->value(), 16);
    doc.undoStack()->redo();
    QCOMPARE(saved(doc), edited);
  }

  void randomEditsUndoToTheSameBytes() {
    MainWindow& w = fresh(small_graph());
    Document& doc = *w.document();
    QVERIFY(w.openPath("mobilenet_v3_small"));
    const QString original = saved(doc);
    std::mt19937 rng(3);
    const auto& kinds = blocks::Registry::builtin().kinds();
    std::vector<QString> states{original};
    for (int i = 0; i < 60; ++i) {
      const auto& g = doc.graph();
      const std::string id = g.nodes[rng() % g.nodes.size()].id;
      switch (rng() % 5) {
        case 0:
          (void)doc.addBlock(kinds[rng() % kinds.size()]->name(), edit::Pos{static_cast<double>(rng() % 500), 0});
          break;
        case 1:
          doc.removeBlocks({id});
          break;
        case 2:
          (void)doc.setParam(id, "stride", ir::ParamValue{std::int64_t(1 + rng() % 2)});
          break;
        case 3:
          doc.moveBlocks({{id, edit::Pos{static_cast<double>(rng() % 900), static_cast<double>(rng() % 900)}}});
          break;
        default:
          doc.setAlpha(0.5 + 0.25 * static_cast<double>(rng() % 4));
          break;
      }
    }
    while (doc.undoStack()->canUndo()) doc.undoStack()->undo();
    QCOMPARE(saved(doc), original);
    QVERIFY(!doc.isModified());
  }

  void invalidParameterShowsItsMessage() {
    MainWindow& w = fresh(small_graph());
    Document& doc = *w.document();
    QVERIFY(doc.setParam("a", "groups", ir::ParamValue{std::int64_t{3}}));
    doc.select({"a"});
    const auto& rec = doc.analysis().nodes[1];
    QCOMPARE(rec.status, cost::NodeStatus::Invalid);
    auto* problems = w.inspector()->findChild<QLabel*>("problems");
    QVERIFY(problems);
    QVERIFY(!problems->isHidden());
    QVERIFY2(problems->text().contains("blocks[1].groups"), qPrintable(problems->text()));
    QVERIFY(problems->text().contains("divisible"));
    QVERIFY(w.scene()->nodeItem("a")->toolTip().contains("invalid"));
    QVERIFY(w.totalsText().contains("problem"));
  }

  // A list parameter (IGCV2's branch sizes) is edited as text in the inspector: "auto"
  // shows the derived split; a typed list is committed on Enter; a list that does not
  // multiply to the channels marks the block with the engine's message; undo returns.
  void listParameterInTheInspector() {
    ir::Graph g = small_graph();
    g.nodes[2] = {.id = "b", .kind = "igcv2", .inputs = {"a"}, .params = {}, .pos = edit::Pos{0, 300}};
    MainWindow& w = fresh(g);
    Document& doc = *w.document();
    doc.select({"b"});
    auto* edit = w.inspector()->findChild<QLineEdit*>("branches");
    QVERIFY(edit);
    QCOMPARE(edit->text(), QString("4,4"));  // 16 channels, L = 3: the balanced split
    QVERIFY(!edit->isEnabled());
    w.inspector()->findChild<QCheckBox*>("branches_auto")->setChecked(false);
    edit = w.inspector()->findChild<QLineEdit*>("branches");
    edit->setText("8 2");
    QMetaObject::invokeMethod(edit, "editingFinished");
    QCOMPARE(std::get<std::string>(doc.graph().nodes[2].params.at("branches")), std::string("8,2"));
    QCOMPARE(doc.analysis().nodes[2].status, cost::NodeStatus::Ok);
    edit = w.inspector()->findChild<QLineEdit*>("branches");
    edit->setText("8,4");
    QMetaObject::invokeMethod(edit, "editingFinished");
    QCOMPARE(doc.analysis().nodes[2].status, cost::NodeStatus::Invalid);
    auto* problems = w.inspector()->findChild<QLabel*>("problems");
    QVERIFY2(problems->text().contains("8*4 = 32 is not the 16 input channels"), qPrintable(problems->text()));
    // Edits of one field merge into one undo step (as typing in a spin box does).
    doc.undoStack()->undo();
    QCOMPARE(doc.analysis().nodes[2].status, cost::NodeStatus::Ok);
  }

  // Ctrl+Z typed in an inspector field is the app's undo: the typed value is
  // reverted in one step (not the field's own text undo, recorded as a new edit).
  void undoInsideAnInspectorField() {
    MainWindow& w = fresh(small_graph());
    Document& doc = *w.document();
    doc.select({"a"});
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    auto* out = qobject_cast<QSpinBox*>(w.inspector()->editor("out"));
    QVERIFY(out);
    auto* line = out->findChild<QLineEdit*>();
    out->setFocus();
    line->selectAll();
    QTest::keyClicks(line, "40");
    QCOMPARE(std::get<std::int64_t>(doc.graph().nodes[1].params.at("out")), std::int64_t{40});
    QTest::keyClick(line, Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(std::get<std::int64_t>(doc.graph().nodes[1].params.at("out")), std::int64_t{16});
    QCOMPARE(qobject_cast<QSpinBox*>(w.inspector()->editor("out"))->value(), 16);
    QVERIFY(!doc.undoStack()->canUndo());
    QVERIFY(doc.undoStack()->canRedo());  // the document's undo ran, not the field's
    QTest::keyClick(qobject_cast<QSpinBox*>(w.inspector()->editor("out"))->findChild<QLineEdit*>(), Qt::Key_Z,
                    Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(std::get<std::int64_t>(doc.graph().nodes[1].params.at("out")), std::int64_t{40});
  }

  // A small window: the bottom panels share one tabbed area so that the canvas keeps
  // the room; each size class remembers its own layout; the Block column stays in
  // view when the cost table scrolls sideways.
  void smallWindowLayout() {
    MainWindow& w = fresh(ir::Graph{});
    QVERIFY(w.openPath("mobilenet_v2"));
    w.resize(1024, 700);
    QTRY_COMPARE(w.width(), 1024);
    QVERIFY(w.isSmall());
    auto* costs = w.findChild<QDockWidget*>("costDock");
    auto* plots = w.findChild<QDockWidget*>("plotDock");
    QVERIFY(w.tabifiedDockWidgets(costs).contains(plots));
    QTRY_VERIFY2(w.view()->width() >= 480 && w.view()->height() >= 240,  // was 420 x 200
             qPrintable(QString("canvas %1x%2").arg(w.view()->width()).arg(w.view()->height())));
    // Back to a large window: the side-by-side layout returns.
    w.resize(1600, 1000);
    QTRY_COMPARE(w.width(), 1600);
    QVERIFY(!w.tabifiedDockWidgets(costs).contains(plots));
    w.resize(1024, 700);
    QTRY_VERIFY(w.tabifiedDockWidgets(costs).contains(plots));
    // Scrolled sideways, the frozen Block column shows over the left edge.
    costs->raise();
    auto* frozen = w.costTable()->findChild<QTreeView*>("costTableFrozen");
    QVERIFY(frozen && frozen->isHidden());
    w.costTable()->horizontalScrollBar()->setValue(w.costTable()->horizontalScrollBar()->maximum());
    QVERIFY(w.costTable()->horizontalScrollBar()->value() > 0);
    QVERIFY(!frozen->isHidden());
    QCOMPARE(frozen->model(), w.costTable()->model());
    QCOMPARE(frozen->width(), w.costTable()->columnWidth(CostTable::kBlock) + 1);
  }

  void savesAndReopensIdentically() {
    MainWindow& w = fresh(small_graph());
    QVERIFY(w.openPath("squeezenet1_1"));
    QVERIFY(w.document()->setParam("fire2", "squeeze", ir::ParamValue{std::int64_t{24}}));
    QVERIFY(w.document()->isModified());
    const QString path = tmp_.filePath("design.json");
    QVERIFY(w.document()->save(path));
    QVERIFY(!w.document()->isModified());
    const QString text = saved(*w.document());
    MainWindow& w2 = fresh(ir::Graph{});
    QVERIFY(w2.openPath(path));
    QCOMPARE(saved(*w2.document()), text);
    QCOMPARE(w2.document()->path(), path);
  }

  void brokenFileLeavesTheDocumentUntouched() {
    MainWindow& w = fresh(small_graph());
    const QString before = saved(*w.document());
    const QString path = tmp_.filePath("broken.json");
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"format": "convscope-graph", "version": 1, "blocks": [{"id": "x", "kind": "conv", "stride": "two"}]})");
    f.close();
    auto r = w.openPath(path);
    QVERIFY(!r);
    QVERIFY2(describe(r.error()).contains("broken.json: blocks[0].stride"), qPrintable(describe(r.error())));
    QCOMPARE(saved(*w.document()), before);
    auto onnx = w.openPath(tmp_.filePath("missing.onnx"));
    QVERIFY(!onnx);
    QCOMPARE(saved(*w.document()), before);
  }

  void profilesASmallGraphAndFillsTableAndPlots() {
    MainWindow& w = fresh(small_graph());
    // Before anything runs: the latency model's prediction, one microsecond per plan step.
    // Calibrated, says the model, on a machine that ran the speed probe four times as fast as this one
    // does (a shared machine's probe swings by up to 2x between two timings: the drift must still show).
    profile::LatencyModel model = unit_model();
    model.reference_ns = profile::SpeedProbe::build(kernels::best_kernels())->time_ns() / 4;
    w.document()->setLatencyModel(model);
    const auto steps = runtime::Schedule::build(w.document()->graph(), w.document()->analysis())->steps.size();
    QCOMPARE(w.document()->predictedNs(), 1000.0 * static_cast<double>(steps));
    QVERIFY(w.findChild<QLabel*>("totals")->text().contains("predicted"));
    QCOMPARE(w.costTable()->blockRow("a")->data(CostTable::kPredicted, Qt::UserRole).toDouble(), 1000.0);
    QSignalSpy done(&w, &MainWindow::profileDone);
    w.startProfile(3, 0.02);
    QVERIFY(done.wait(60000));
    QCOMPARE(done.first().at(0).toBool(), true);
    const ProfileData* p = w.document()->profile();
    QVERIFY(p && w.document()->profileCurrent());
    QVERIFY(p->result.network_ns.median > 0);
    QTreeWidgetItem* row = w.costTable()->blockRow("a");
    QVERIFY(row->data(CostTable::kMeasured, Qt::UserRole).toDouble() > 0);
    QVERIFY(!row->text(CostTable::kRatio).isEmpty());
    QCOMPARE(p->summary.predicted_ns, 1000.0 * static_cast<double>(steps));  // the model went with the job
    QVERIFY(p->summary.model.find("latency model v") == 0);
    QCOMPARE(w.plots()->layerPointCount(), static_cast<int>(p->summary.layers.size()));
    QVERIFY(w.findChild<QLabel*>("latency")->text().startsWith("measured"));
    // The machine's drift against the calibration, measured around the run and said beside it.
    QVERIFY2(p->summary.speed > 1.5, qPrintable(QString::number(p->summary.speed)));
    QVERIFY2(w.findChild<QLabel*>("latency")->text().contains("slower than calibrated"),
             qPrintable(w.findChild<QLabel*>("latency")->text()));
    QVERIFY(w.findChild<QLabel*>("latency")->toolTip().contains("Re-calibrate"));
    // Plots export in all three formats.
    for (const char* ext : {"png", "svg", "pdf"}) {
      QString error;
      const QString path = tmp_.filePath(QString("plot.") + ext);
      QVERIFY2(w.plots()->exportCurrent(path, &error), qPrintable(error));
      QVERIFY(QFileInfo(path).size() > 500);
      QVERIFY(w.exportCanvas(tmp_.filePath(QString("canvas.") + ext)));
      QVERIFY(QFileInfo(tmp_.filePath(QString("canvas.") + ext)).size() > 500);
    }
    // An edit makes the profile stale rather than wrong.
    QVERIFY(w.document()->setParam("b", "out", ir::ParamValue{std::int64_t{32}}));
    QVERIFY(!w.document()->profileCurrent());
    QVERIFY(w.findChild<QLabel*>("latency")->text().contains("before the last edit"));
  }

  // A batch norm and an activation written as blocks of their own (as an ONNX
  // import writes them) run in the convolution's step: the inspector says so
  // instead of a time of their own.
  void blocksRunInAnothersStepSayWhose() {
    ir::Graph g = small_graph();
    g.nodes[1].params["bn"] = false;
    g.nodes[1].params["activation"] = std::string("none");
    g.nodes.push_back({.id = "norm", .kind = "batch_norm", .inputs = {"a"}, .pos = edit::Pos{0, 450}});
    g.nodes.push_back({.id = "act", .kind = "activation", .inputs = {"norm"}, .pos = edit::Pos{0, 600}});
    g.nodes[2].inputs = {"act"};
    MainWindow& w = fresh(g);
    Document& doc = *w.document();
    QCOMPARE(doc.stepHost(doc.graph().find("norm")), -1);  // nothing scheduled without a model
    doc.setLatencyModel(unit_model());
    const int a = doc.graph().find("a");
    QCOMPARE(doc.stepHost(doc.graph().find("norm")), a);
    QCOMPARE(doc.stepHost(doc.graph().find("act")), a);
    QCOMPARE(doc.stepHost(a), -1);
    QCOMPARE(doc.stepHost(doc.graph().find("b")), -1);
    doc.select({"act"});
    const QString text = w.inspector()->findChild<QLabel*>("costs")->text();
    QVERIFY2(text.contains("in a's step"), qPrintable(text));
    doc.select({"a"});
    QVERIFY(!w.inspector()->findChild<QLabel*>("costs")->text().contains("'s step"));
  }

  void cancelsAProfileRun() {
    MainWindow& w = fresh(small_graph());
    QVERIFY(w.openPath("mobilenet_v2"));
    QSignalSpy done(&w, &MainWindow::profileDone);
    QSignalSpy progress(w.runner(), &ProfileRunner::progress);
    w.startProfile(1000, 60.0);  // would take minutes
    QVERIFY(progress.wait(60000));
    w.cancelProfile();
    QVERIFY(done.wait(60000));
    QCOMPARE(done.first().at(0).toBool(), false);
    QVERIFY(w.document()->profile() && w.document()->profile()->result.cancelled);
  }

  void paletteTooltipsGiveTheFormula() {
    MainWindow& w = fresh(small_graph());
    QTreeWidget* tree = w.palette()->tree();
    QTreeWidgetItem* separable = nullptr;
    for (int g = 0; g < tree->topLevelItemCount(); ++g)
      for (int i = 0; i < tree->topLevelItem(g)->childCount(); ++i)
        if (tree->topLevelItem(g)->child(i)->data(0, Qt::UserRole).toString() == "separable")
          separable = tree->topLevelItem(g)->child(i);
    QVERIFY(separable);
    QVERIFY2(separable->toolTip(0).contains("MAdds = "), qPrintable(separable->toolTip(0)));
  }

  void pearsonIsExact() {
    QVERIFY(std::abs(pearson({1, 2, 3}, {2, 4, 6}) - 1.0) < 1e-12);
    QVERIFY(std::abs(pearson({1, 2, 3}, {3, 2, 1}) + 1.0) < 1e-12);
    QCOMPARE(pearson({1, 2, 3}, {5, 5, 5}), 0.0);
    QCOMPARE(pearson({1}, {1}), 0.0);
    // By hand: deviations (-1.5,-0.5,0.5,1.5) and (-0.5,-1.5,0.5,1.5): r = 4 / sqrt(5 * 5) = 0.8.
    QVERIFY(std::abs(pearson({1, 2, 3, 4}, {2, 1, 3, 4}) - 0.8) < 1e-12);
  }

  void comparesBlocksAndMeasuresThem() {
    MainWindow& w = fresh(small_graph());
    ComparePanel* c = w.comparePanel();
    QVERIFY(c->rows().size() >= 5);
    // The engine's own comparison for the panel's default shape.
    const auto rows = cost::compare_blocks(ir::Shape{56, 56, 64}, 128, 1, 3);
    QCOMPARE(c->rows().size(), rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      QCOMPARE(c->rows()[i].totals.madds, rows[i].totals.madds);
      QCOMPARE(c->table()->item(static_cast<int>(i), 0)->text().isEmpty(), false);
    }
    auto* out = c->findChild<QSpinBox*>("outChannels");
    QVERIFY(out);
    out->setValue(96);
    const auto rows96 = cost::compare_blocks(ir::Shape{56, 56, 64}, 96, 1, 3);
    QCOMPARE(c->rows().front().totals.madds, rows96.front().totals.madds);
    QSignalSpy measured(c, &ComparePanel::measured);
    c->findChild<QSpinBox*>("height")->setValue(14);
    c->findChild<QSpinBox*>("width")->setValue(14);
    c->measure();
    QVERIFY(measured.wait(120000));
    int with_latency = 0;
    for (std::size_t i = 0; i < c->rows().size(); ++i)
      if (c->rows()[i].ok) with_latency += c->measuredNs()[i] > 0 ? 1 : 0;
    QVERIFY(with_latency >= 4);
  }

  // Issue 15.15: a geometry saved on a larger screen does not push the window off this one.
  void restoredGeometryFitsOnTheScreen() {
    {
      QWidget big;
      big.setGeometry(3000, 2500, 2400, 1600);
      QSettings().setValue("window/geometry", big.saveGeometry());
    }
    MainWindow w(MainWindowOptions{.recover = false, .interactive = false, .calibrate_latency = false});
    const QRect avail = QGuiApplication::primaryScreen()->availableGeometry();
    QVERIFY2(avail.contains(w.frameGeometry()),
             qPrintable(QString("window %1,%2 %3x%4 on screen %5x%6")
                            .arg(w.frameGeometry().x())
                            .arg(w.frameGeometry().y())
                            .arg(w.frameGeometry().width())
                            .arg(w.frameGeometry().height())
                            .arg(avail.width())
                            .arg(avail.height())));
    QSettings().remove("window/geometry");
  }

  void sweepsTheGridAndOpensAPoint() {
    MainWindow& w = fresh(small_graph());
    QVERIFY(w.openPath("mobilenet_v2"));
    SweepPanel* sp = w.sweepPanel();
    QVERIFY(sp);
    // Absurd grids are refused before anything runs, with the engine's message.
    sp->setGrid("0,1.0", "224", "", false);
    QVERIFY(!sp->run());
    QVERIFY2(sp->statusText().contains("must be in (0, 16], got 0"), qPrintable(sp->statusText()));
    sp->setGrid("0.5,1.0", "128:224:32", "", false);
    QVERIFY(sp->run());
    sweep::Spec spec;
    spec.alphas = {0.5, 1.0};
    spec.resolutions = {128, 160, 192, 224};
    const auto expect = sweep::evaluate(w.document()->graph(), spec);
    QCOMPARE(sp->points().size(), expect.size());
    for (std::size_t i = 0; i < expect.size(); ++i) QCOMPARE(sp->points()[i].madds, expect[i].madds);
    QCOMPARE(sp->table()->rowCount(), 8);
    // No latency model yet: no predicted column, the front is the most parameters for the MAdds,
    // one point per alpha (its lowest resolution), not the one smallest network.
    QVERIFY(!sp->points()[0].predicted_ms);
    QVERIFY2(sp->statusText().contains("Pareto front of the most parameters for the MAdds: 2 points"),
             qPrintable(sp->statusText()));
    for (const auto& p : sp->points()) QCOMPARE(p.pareto, p.resolution == 128);
    // With one: every point predicted (1 us per plan step), the front on predicted latency.
    w.document()->setLatencyModel(unit_model());
    QVERIFY(sp->run());
    for (const auto& p : sp->points()) QVERIFY(p.predicted_ms && *p.predicted_ms > 0);
    QVERIFY2(sp->statusText().contains("for the predicted latency"), qPrintable(sp->statusText()));
    bool column = false;
    for (int c = 0; c < sp->table()->columnCount(); ++c)
      column |= sp->table()->horizontalHeaderItem(c)->text() == "Predicted (ms)";
    QVERIFY(column);
    // Another front, re-marked without re-running, by the engine's rule.
    auto* front = sp->findChild<QComboBox*>("paretoAxes");
    QVERIFY(front);
    front->setCurrentIndex(2);  // latency x peak memory, both least
    auto expect_front = sp->points();
    sweep::mark_pareto(expect_front, sweep::Metric::Latency, sweep::Metric::PeakMemory);
    for (std::size_t i = 0; i < expect_front.size(); ++i) QCOMPARE(sp->points()[i].pareto, expect_front[i].pareto);
    QVERIFY2(sp->statusText().contains("Pareto front of predicted latency against peak memory"),
             qPrintable(sp->statusText()));
    front->setCurrentIndex(0);
    QString error;
    QVERIFY2(sp->exportCsv(tmp_.filePath("sweep.csv"), &error), qPrintable(error));
    QVERIFY(QFileInfo(tmp_.filePath("sweep.csv")).size() > 100);
    // Opening a point puts that configuration on the canvas as one undo step.
    std::size_t idx = 0;
    for (std::size_t i = 0; i < sp->points().size(); ++i)
      if (sp->points()[i].alpha == 0.5 && sp->points()[i].resolution == 160) idx = i;
    QVERIFY(sp->openPoint(idx));
    QCOMPARE(w.document()->graph().settings.alpha, 0.5);
    QCOMPARE(w.document()->analysis().totals.madds, sp->points()[idx].madds);
    QVERIFY(w.document()->undoStack()->canUndo());
  }

  // Issue 15.5: an out-of-range value typed in the inspector is kept and reported
  // with its range (the block goes red), not silently reverted.
  void outOfRangeValueIsReportedNotReverted() {
    MainWindow& w = fresh(ir::Graph{});
    QVERIFY(w.openPath("mobilenet_v2"));
    Document& doc = *w.document();
    doc.select({"ir4"});
    auto* e = qobject_cast<QSpinBox*>(w.inspector()->editor("expansion"));
    QVERIFY(e);
    e->setValue(0);
    const auto& g = doc.graph();
    QCOMPARE(std::get<std::int64_t>(g.nodes[static_cast<std::size_t>(g.find("ir4"))].params.at("expansion")),
             std::int64_t{0});
    QVERIFY(!doc.analysis().complete());
    auto* problems = w.inspector()->findChild<QLabel*>("problems");
    QVERIFY(problems);
    QVERIFY2(problems->text().contains("must be >= 1, got 0"), qPrintable(problems->text()));
    QCOMPARE(e->value(), 0);
  }

  // Issue 15.13, 15.14: the toolbar keeps fixed labels (the command is in the tooltip),
  // its controls have tooltips, and Help lists every shortcut, read from the menus.
  void toolbarTooltipsAndShortcutList() {
    MainWindow& w = fresh(ir::Graph{});
    QVERIFY(w.openPath("mobilenet_v2"));
    auto* undo = w.findChild<QAction*>("toolbarUndo");
    QVERIFY(undo);
    QVERIFY(!undo->isEnabled());
    w.document()->setAlpha(0.5);
    QVERIFY(undo->isEnabled());
    QCOMPARE(undo->text(), QString("Undo"));
    QVERIFY2(undo->toolTip().startsWith("Undo "), qPrintable(undo->toolTip()));
    for (const char* name : {"alpha", "resolution", "colourBy", "threads"})
      QVERIFY2(!w.findChild<QWidget*>(name)->toolTip().isEmpty(), name);
    // Every toolbar button has an icon and a tooltip; the file commands name their keys.
    auto* bar = w.findChild<QToolBar*>("mainToolbar");
    for (QAction* a : bar->actions()) {
      if (a->isSeparator() || qobject_cast<QWidgetAction*>(a)) continue;
      QVERIFY2(!a->icon().isNull(), qPrintable(a->text()));
      QVERIFY2(!a->toolTip().isEmpty(), qPrintable(a->text()));
    }
    bool saveTip = false;
    for (QAction* a : bar->actions()) saveTip |= a->toolTip() == QString("Save (%1)").arg(QKeySequence(QKeySequence::Save).toString(QKeySequence::NativeText));
    QVERIFY(saveTip);
    w.findChild<QAction*>("keyboardShortcuts")->trigger();
    auto* table = w.findChild<QTableWidget*>("shortcutsTable");
    QVERIFY(table);
    bool saveAs = false, profile = false;
    for (int r = 0; r < table->rowCount(); ++r) {
      saveAs |= table->item(r, 1)->text().startsWith("Save As") && table->item(r, 2)->text() == "Ctrl+Shift+S";
      profile |= table->item(r, 1)->text() == "Profile" && table->item(r, 2)->text() == "Ctrl+R";
    }
    QVERIFY(saveAs);
    QVERIFY(profile);
    table->window()->close();
  }

  // Issue 15.7: the sweep counts under the document's convention, recounts when it
  // changes, and drops its results when another design is opened.
  void sweepFollowsTheConventionAndTheDesign() {
    MainWindow& w = fresh(small_graph());
    QVERIFY(w.openPath("mobilenet_v2"));
    Document& doc = *w.document();
    cost::AnalysisOptions o = doc.analysisOptions();
    o.convention = *cost::find_convention("torchvision");
    doc.setAnalysisOptions(o);
    SweepPanel* sp = w.sweepPanel();
    sp->setGrid("1.0", "224", "", false);
    QVERIFY(sp->run());
    QCOMPARE(sp->points().size(), std::size_t{1});
    QCOMPARE(sp->points()[0].params, doc.analysis().totals.params);
    QCOMPARE(sp->points()[0].params, std::int64_t{3504872});  // torchvision's count, as the status bar shows
    o.convention = *cost::find_convention("paper");
    doc.setAnalysisOptions(o);
    QCOMPARE(sp->points()[0].params, std::int64_t{3470760});
    QVERIFY2(sp->statusText().contains("paper"), qPrintable(sp->statusText()));
    QVERIFY(w.openPath("squeezenet1_1"));
    QVERIFY(sp->points().empty());
    QVERIFY2(sp->statusText().contains("another design was opened"), qPrintable(sp->statusText()));
  }

  // Measured sweeps run on the worker at the chosen thread count.
  void sweepMeasuresAtTheChosenThreads() {
    MainWindow& w = fresh(small_graph());
    SweepPanel* sp = w.sweepPanel();
    auto* threads = sp->findChild<QSpinBox*>("sweepThreads");
    QVERIFY(threads);
    threads->setValue(threads->maximum());
    const int n = threads->value();
    sp->setGrid("0.5,1.0", "", "", true);
    QSignalSpy done(sp, &SweepPanel::finished);
    QVERIFY(sp->run());
    QVERIFY(!threads->isEnabled());  // not changeable while measuring
    QVERIFY(done.wait(60000));
    QCOMPARE(done.front().front().toBool(), true);
    QCOMPARE(sp->points().size(), std::size_t{2});
    for (const auto& p : sp->points()) QVERIFY(p.median_ms && *p.median_ms > 0);
    QVERIFY2(sp->statusText().contains(QString("at %1 thread").arg(n)), qPrintable(sp->statusText()));
    QVERIFY(threads->isEnabled());
    // Another design opened while measuring: the measurement stops and its points are dropped.
    done.clear();
    sp->setGrid("0.5,0.75,1.0", "96:224:32", "", true);
    QVERIFY(sp->run());
    QVERIFY(sp->running());
    QVERIFY(w.openPath("squeezenet1_1"));
    QVERIFY(done.wait(60000));
    QCOMPARE(done.front().front().toBool(), false);
    QVERIFY(!sp->running());
    QVERIFY(sp->points().empty());
    QVERIFY2(sp->statusText().contains("another design was opened"), qPrintable(sp->statusText()));
    QCOMPARE(sp->table()->rowCount(), 0);
  }

  void exportsDesigns() {
    MainWindow& w = fresh(small_graph());
    for (const char* ext : {"onnx", "py", "dot", "csv", "json"}) {
      const QString path = tmp_.filePath(QString("design.") + ext);
      auto r = w.exportDesign(path);
      QVERIFY2(r, qPrintable(r ? QString() : describe(r.error())));
      QVERIFY(QFileInfo(path).size() > 50);
    }
    QVERIFY(!w.exportDesign(tmp_.filePath("design.xyz")));
    // File > Open takes the exported ONNX model back, with the same costs.
    const auto totals = w.document()->analysis().totals;
    QVERIFY(w.openPath(tmp_.filePath("design.onnx")));
    QCOMPARE(w.document()->analysis().totals.madds, totals.madds);
    QCOMPARE(w.document()->analysis().totals.weights, totals.weights);
    QVERIFY(!w.document()->importedWeights().empty());
  }

  // Tools > Deep Compression: a run off the UI thread fills a row per layer and the
  // stage totals; a layer's prune ratio edited in the table applies to the next run;
  // an out-of-range ratio is refused with the layer named.
  void deepCompressionDialog() {
    MainWindow& w = fresh(ir::Graph{});
    QVERIFY(w.openPath("squeezenet1_1"));
    w.findChild<QAction*>("deepCompression")->trigger();
    auto* d = w.findChild<CompressionDialog*>("compressionDialog");
    QVERIFY(d && d->isVisible());
    d->findChild<QDoubleSpinBox*>("prune")->setValue(0.5);
    d->findChild<QSpinBox*>("inputs")->setValue(1);
    QSignalSpy done(d, &CompressionDialog::finished);
    d->run();
    QVERIFY(done.wait(60000));
    QCOMPARE(d->table()->rowCount(), 26);  // 25 convolutions + the classifier conv
    QVERIFY2(d->summary().contains("Huffman-coded"), qPrintable(d->summary()));
    QVERIFY2(d->summary().contains("top-1 unchanged"), qPrintable(d->summary()));
    QCOMPARE(d->table()->item(0, 0)->text(), QString("conv1/conv"));
    QCOMPARE(d->table()->item(0, 4)->text(), QString("50.0 %"));
    d->table()->item(0, 2)->setText("0.9");
    d->run();
    QVERIFY(done.wait(60000));
    QCOMPARE(d->table()->item(0, 4)->text(), QString("10.0 %"));
    QCOMPARE(d->table()->item(1, 4)->text(), QString("50.0 %"));
    d->table()->item(1, 2)->setText("1.5");
    d->run();
    QVERIFY(done.wait(60000));
    QVERIFY2(d->summary().contains("prune-layer fire2/squeeze: must be in [0, 1)"), qPrintable(d->summary()));
    if (!qEnvironmentVariableIsEmpty("CONVSCOPE_SCREENSHOT_DIR"))
      d->grab().save(QDir(qEnvironmentVariable("CONVSCOPE_SCREENSHOT_DIR")).filePath("compression.png"));
  }

  void autosaveWritesTheDesign() {
    MainWindow& w = fresh(small_graph());
    QVERIFY(w.document()->setParam("a", "out", ir::ParamValue{std::int64_t{40}}));
    w.autosave();
    QDir dir(MainWindow::autosaveDir());
    const QStringList files = dir.entryList({"*.json"});
    QVERIFY(!files.isEmpty());
    auto g = io::load_graph(dir.filePath(files.front()).toStdString());
    QVERIFY(g);
    QCOMPARE(*g, w.document()->graph());
  }
};

QTEST_MAIN(GuiTest)
#include "test_gui.moc"
