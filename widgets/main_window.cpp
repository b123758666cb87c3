// The main window: construction, docks, the status line, profiling and calibration.
// Its menus and toolbar are built in main_window_actions.cpp; opening, saving,
// autosave and export are in main_window_files.cpp.
#include "main_window.h"

#include <cmath>
#include <functional>

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QGuiApplication>
#include <QInputDialog>
#include <QLabel>
#include <QLockFile>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QScreen>
#include <QSettings>
#include <QSpinBox>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>
#include <QUuid>

#include "canvas.h"
#include "compare_panel.h"
#include "compression_dialog.h"
#include "cost_table.h"
#include "elided_label.h"
#include "inspector.h"
#include "io/design_export.h"
#include "io/graph_json.h"
#include "io/presets.h"
#include "io/report.h"
#include "layout.h"
#include "palette.h"
#include "plots.h"
#include "profile/latency_calibration.h"
#include "profile/speed_probe.h"
#include "profile_runner.h"
#include "qt_strings.h"
#include "sweep_panel.h"

namespace convscope::gui {
namespace {

constexpr const char* kGraphMime = "application/x-convscope-graph";
constexpr int kAutosaveMs = 30'000;

}  // namespace

QString safeFileName(const QString& name) {
  QString out;
  for (const QChar ch : name) {
    const bool keep = (ch.isLetterOrNumber() && ch.unicode() < 128) || ch == '.' || ch == '-' || ch == '_';
    if (keep)
      out += ch;
    else if (!out.endsWith('_'))
      out += '_';
  }
  while (out.startsWith('_') || out.startsWith('.')) out.remove(0, 1);
  while (out.endsWith('_')) out.chop(1);
  return out.isEmpty() ? QStringLiteral("design") : out;
}

QStringList presetFiles() {
  QStringList files;
  for (const auto& f : io::preset_files()) files << QString::fromStdString(f.string());
  return files;
}

MainWindow::MainWindow(const MainWindowOptions& options, QWidget* parent) : QMainWindow(parent), options_(options) {
  setObjectName("mainWindow");
  scene_ = new CanvasScene(&doc_, this);
  view_ = new CanvasView(scene_);
  setCentralWidget(view_);
  runner_ = new ProfileRunner(this);
  buildDocks();
  buildActions();

  // Labels that elide rather than widen the window (the totals can be 120 characters).
  totals_ = new ElidedLabel;
  totals_->setObjectName("totals");
  latency_ = new ElidedLabel;
  latency_->setObjectName("latency");
  progress_ = new QProgressBar;
  progress_->setRange(0, 1000);
  progress_->setMaximumWidth(220);
  progress_->setVisible(false);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(totals_);
  statusBar()->addPermanentWidget(latency_);

  connect(&doc_, &Document::changed, this, [this] {
    updateStatus();
    updateSettingsEditors();
  });
  connect(&doc_, &Document::profileChanged, this, &MainWindow::updateStatus);
  connect(&doc_, &Document::pathChanged, this, &MainWindow::updateTitle);
  connect(doc_.undoStack(), &QUndoStack::cleanChanged, this, &MainWindow::updateTitle);
  connect(scene_, &CanvasScene::message, this, [this](const QString& m) { statusBar()->showMessage(m, 6000); });
  connect(inspector_, &Inspector::message, this, [this](const QString& m) { statusBar()->showMessage(m, 6000); });
  connect(palette_, &Palette::activated, this, [this](const QString& kind) {
    // Activating a palette entry inserts the kind after the selected block (or adds it).
    const auto& sel = doc_.selection();
    Result<std::string> id;
    if (sel.size() == 1) {
      const auto& g = doc_.graph();
      std::string consumer;
      std::size_t slot = 0;
      for (const auto& n : g.nodes)
        for (std::size_t s = 0; s < n.inputs.size(); ++s)
          if (consumer.empty() && n.inputs[s] == sel[0]) {
            consumer = n.id;
            slot = s;
          }
      const auto* node = &g.nodes[static_cast<std::size_t>(g.find(sel[0]))];
      std::optional<edit::Pos> pos;
      if (node->pos) pos = edit::Pos{(*node->pos)[0] + 30, (*node->pos)[1] + 90};
      if (!consumer.empty()) {
        id = doc_.spliceBlock(kind.toStdString(), consumer, slot, pos);
      } else {
        ir::Graph next = g;
        id = edit::add_block(next, kind.toStdString(), pos);
        if (id && edit::connect(next, sel[0], *id, 0)) {
          edit::move_blocks(next, make_room(next, *id));
          doc_.apply(tr("Add %1 after %2").arg(qs(*id), qs(sel[0])), next);
        } else if (id)
          id = doc_.addBlock(kind.toStdString(), pos);
      }
    } else {
      id = doc_.addBlock(kind.toStdString(), std::nullopt);
    }
    if (id) {
      doc_.select({*id});
      if (auto* item = scene_->nodeItem(*id)) view_->centerOn(item);
    } else {
      statusBar()->showMessage(describe(id.error()), 6000);
    }
  });
  connect(&doc_, &Document::selectionChanged, this, [this] {
    // Bring a block selected elsewhere (table, find) into view.
    if (doc_.selection().size() != 1 || view_->hasFocus()) return;
    if (auto* item = scene_->nodeItem(doc_.selection()[0])) view_->ensureVisible(item, 60, 60);
  });

  connect(runner_, &ProfileRunner::progress, this, [this](double f, const QString& stage) {
    progress_->setValue(static_cast<int>(f * 1000));
    progress_->setFormat(stage + " %p%");
  });
  connect(runner_, &ProfileRunner::finished, this, [this](std::shared_ptr<const ProfileData> result) {
    progress_->setVisible(false);
    profileAction_->setEnabled(true);
    cancelAction_->setEnabled(false);
    const bool cancelled = result->result.cancelled;
    const QString recalibrated = result->recalibrated;
    if (!doc_.calibration() || !recalibrated.isEmpty()) doc_.setCalibration(result->calibration);
    doc_.setProfile(std::move(result));
    statusBar()->showMessage(cancelled ? tr("Profile cancelled: figures cover the runs made before the cancel")
                             : recalibrated.isEmpty() ? tr("Profile finished")
                                                      : tr("Profile finished; %1").arg(recalibrated),
                             recalibrated.isEmpty() ? 8000 : 20000);
    emit profileDone(!cancelled);
  });
  connect(runner_, &ProfileRunner::failed, this, [this](const QString& message) {
    progress_->setVisible(false);
    profileAction_->setEnabled(true);
    cancelAction_->setEnabled(false);
    showError(tr("Profile"), message);
    emit profileDone(false);
  });

  autosaveTimer_ = new QTimer(this);
  autosaveTimer_->setInterval(kAutosaveMs);
  connect(autosaveTimer_, &QTimer::timeout, this, &MainWindow::autosave);
  autosaveTimer_->start();
  {
    QDir().mkpath(autosaveDir());
    const QString session = QUuid::createUuid().toString(QUuid::WithoutBraces);
    autosavePath_ = autosaveDir() + "/" + session + ".json";
    // Held while this window lives: an autosave whose lock can be taken belongs to a
    // session that ended without cleaning up (a crash), and is offered for recovery.
    sessionLock_ = std::make_unique<QLockFile>(autosaveDir() + "/" + session + ".lock");
    sessionLock_->setStaleLockTime(0);
    (void)sessionLock_->tryLock(0);
  }

  QSettings settings;
  {
    cost::AnalysisOptions o;
    if (auto c = cost::find_convention(settings.value("analysis/convention").toString().toStdString()))
      o.convention = *c;
    cost::MemoryView v;
    if (cost::parse_memory_view(settings.value("analysis/memory").toString().toStdString(), v)) o.memory_view = v;
    setAnalysisOptions(o);
  }
  if (!restoreGeometry(settings.value("window/geometry").toByteArray())) resize(1500, 950);
  fitOnScreen();
  for (const QString& cls : {QStringLiteral("small"), QStringLiteral("large")})
    if (auto s = settings.value("window/state-" + cls).toByteArray(); !s.isEmpty()) dockStates_[cls] = s;
  // The dock layout is chosen when the window is first shown, at its final size (showEvent).
  rebuildRecentMenu();
  updateTitle();
  updateStatus();
  updateSettingsEditors();
  startCalibration();
  loadLatencyModel();
  if (options_.recover) QTimer::singleShot(0, this, &MainWindow::recoverAutosave);
}

MainWindow::~MainWindow() {
  removeAutosave();
  // modelJob_ and ceilingsJob_ cancel their work and wait for it as they are destroyed.
  // The views observe doc_, which as a member dies before the base class deletes them: delete them first.
  delete runner_;
  runner_ = nullptr;
  const auto docks = findChildren<QDockWidget*>();
  qDeleteAll(docks);
  delete takeCentralWidget();
  delete scene_;
  scene_ = nullptr;
}

void MainWindow::buildDocks() {
  setDockNestingEnabled(true);
  palette_ = new Palette;
  auto* paletteDock = new QDockWidget(tr("Blocks"), this);
  paletteDock->setObjectName("paletteDock");
  paletteDock->setWidget(palette_);
  addDockWidget(Qt::LeftDockWidgetArea, paletteDock);

  inspector_ = new Inspector(&doc_);
  auto* inspectorDock = new QDockWidget(tr("Inspector"), this);
  inspectorDock->setObjectName("inspectorDock");
  inspectorDock->setWidget(inspector_);
  inspector_->setMinimumWidth(300);
  addDockWidget(Qt::RightDockWidgetArea, inspectorDock);

  table_ = new CostTable(&doc_);
  auto* tableDock = new QDockWidget(tr("Costs"), this);
  tableDock->setObjectName("costDock");
  tableDock->setWidget(table_);
  addDockWidget(Qt::BottomDockWidgetArea, tableDock);

  plots_ = new PlotsPanel(&doc_);
  auto* plotDock = new QDockWidget(tr("Plots"), this);
  plotDock->setObjectName("plotDock");
  plotDock->setWidget(plots_);
  addDockWidget(Qt::BottomDockWidgetArea, plotDock);
  splitDockWidget(tableDock, plotDock, Qt::Horizontal);

  compare_ = new ComparePanel(&doc_);
  auto* compareDock = new QDockWidget(tr("Block comparison"), this);
  compareDock->setObjectName("compareDock");
  compareDock->setWidget(compare_);
  addDockWidget(Qt::BottomDockWidgetArea, compareDock);
  tabifyDockWidget(plotDock, compareDock);

  sweep_ = new SweepPanel(&doc_);
  auto* sweepDock = new QDockWidget(tr("Sweep"), this);
  sweepDock->setObjectName("sweepDock");
  sweepDock->setWidget(sweep_);
  addDockWidget(Qt::BottomDockWidgetArea, sweepDock);
  tabifyDockWidget(compareDock, sweepDock);
  plotDock->raise();
}

bool MainWindow::isSmall() const { return width() < 1300 || height() < 850; }

void MainWindow::arrangeDocks() {
  auto* palette = findChild<QDockWidget*>("paletteDock");
  auto* inspector = findChild<QDockWidget*>("inspectorDock");
  auto* table = findChild<QDockWidget*>("costDock");
  auto* plot = findChild<QDockWidget*>("plotDock");
  auto* compare = findChild<QDockWidget*>("compareDock");
  auto* sweep = findChild<QDockWidget*>("sweepDock");
  const bool small = isSmall();
  // Out of the layout first, so that no tab group or split of the old one survives.
  for (QDockWidget* d : {palette, inspector, table, plot, compare, sweep}) {
    removeDockWidget(d);
    d->setFloating(false);
  }
  addDockWidget(Qt::LeftDockWidgetArea, palette);
  addDockWidget(Qt::RightDockWidgetArea, inspector);
  addDockWidget(Qt::BottomDockWidgetArea, table);
  addDockWidget(Qt::BottomDockWidgetArea, plot);
  if (small) {
    // One bottom area of tabs: costs, plots, comparison, sweep.
    tabifyDockWidget(table, plot);
  } else {
    splitDockWidget(table, plot, Qt::Horizontal);
  }
  tabifyDockWidget(plot, compare);
  tabifyDockWidget(compare, sweep);
  for (QDockWidget* d : {palette, inspector, table, plot, compare, sweep}) d->show();  // removeDockWidget hid them
  if (small)
    table->raise();
  else
    plot->raise();
  // Sizes once the new arrangement has been laid out (set in the same pass, the
  // layout's earlier sizes win when called from a resize).
  QTimer::singleShot(0, this, [this, palette, inspector, table, plot, small] {
    if (small != isSmall()) return;  // resized again meanwhile: that arrangement decides
    resizeDocks({palette, inspector}, small ? QList<int>{170, 300} : QList<int>{250, 340}, Qt::Horizontal);
    if (!small) resizeDocks({table, plot}, {width() * 9 / 16, width() * 7 / 16}, Qt::Horizontal);
    resizeDocks({table}, {small ? height() * 36 / 100 : 360}, Qt::Vertical);
  });
}

void MainWindow::showEvent(QShowEvent* event) {
  QMainWindow::showEvent(event);
  if (!sizeClass_.isEmpty()) return;
  // First shown: the layout remembered for this size class, else the default one.
  // (Dock sizes set before the window has its size would hold it wider than asked.)
  sizeClass_ = isSmall() ? "small" : "large";
  if (auto it = dockStates_.find(sizeClass_); it == dockStates_.end() || !restoreState(it->second)) arrangeDocks();
}

void MainWindow::resizeEvent(QResizeEvent* event) {
  QMainWindow::resizeEvent(event);
  if (sizeClass_.isEmpty()) return;  // not shown yet
  const QString cls = isSmall() ? "small" : "large";
  if (cls == sizeClass_) return;
  // Crossing into the other size class: keep this layout for it, take that one's.
  dockStates_[sizeClass_] = saveState();
  sizeClass_ = cls;
  if (auto it = dockStates_.find(cls); it == dockStates_.end() || !restoreState(it->second)) arrangeDocks();
}

void MainWindow::updateTitle() {
  setWindowTitle(doc_.displayName() + "[*] — ConvScope");
  setWindowModified(doc_.isModified());
}

void MainWindow::setAnalysisOptions(const cost::AnalysisOptions& options) {
  doc_.setAnalysisOptions(options);
  QSettings settings;
  settings.setValue("analysis/convention", qs(options.convention.name));
  settings.setValue("analysis/memory", qs(std::string(cost::memory_view_name(options.memory_view))));
  for (QAction* a : conventionGroup_->actions()) a->setChecked(a->data().toString() == qs(options.convention.name));
  for (QAction* a : memoryGroup_->actions())
    a->setChecked(a->data().toString() == qs(std::string(cost::memory_view_name(options.memory_view))));
}

QString MainWindow::totalsText() const {
  const auto& a = doc_.analysis();
  const auto& t = a.totals;
  QString text = tr("%1 params (%2) · %3 MAdds · peak %4 (%5)")
                     .arg(qs(io::with_commas(t.params)), qs(doc_.analysisOptions().convention.name),
                          qs(io::with_commas(t.madds)), qs(io::human(a.memory.peak_bytes, true)),
                          qs(std::string(cost::memory_view_name(doc_.analysisOptions().memory_view))));
  if (const double p = doc_.predictedNs(); p > 0)
    text += tr(" · predicted %1").arg(latency_text(p));
  else if (const double b = doc_.boundNs(); b > 0)
    text += tr(" · roofline bound %1").arg(latency_text(b));
  if (!a.complete()) text += tr(" · %n problem(s)", nullptr, static_cast<int>(a.diagnostics.size()));
  return text;
}

void MainWindow::updateStatus() {
  totals_->setText(totalsText());
  if (const auto& m = doc_.latencyModel())
    totals_->setToolTip(tr("Predicted by the %1%2\nBottleneck fusion: %3")
                            .arg(qs(m->describe()),
                                 doc_.extrapolatedSteps() > 0 ? tr("; %n step(s) outside the calibrated shapes",
                                                                   nullptr, doc_.extrapolatedSteps())
                                                              : QString(),
                                 qs(doc_.fusionSummary())));
  else
    totals_->setToolTip(tr("No latency model for this machine and thread count yet (Run > Re-calibrate)"));
  totals_->setStyleSheet(doc_.analysis().complete() ? QString() : QStringLiteral("color: #c62828"));
  if (const ProfileData* p = doc_.profile()) {
    const auto& n = p->result.network_ns;
    QString text = tr("measured %1 (min %2, p90 %3, %4)")
                       .arg(latency_text(n.median), latency_text(n.min), latency_text(n.p90), qs(p->result.isa));
    if (!doc_.profileCurrent()) text += tr(" — before the last edit");
    QString tip = tr("Bottleneck fusion: %1").arg(qs(p->summary.fusion));
    if (const double speed = p->summary.speed; speed > 0) {
      const std::string drift = profile::describe_drift(speed);
      if (!drift.empty())
        text += speed > 1 ? tr(" · machine %1 % slower than calibrated").arg(std::lround((speed - 1) * 100))
                          : tr(" · machine %1 % faster than calibrated").arg(std::lround((1 - speed) * 100));
      tip += tr("\nSpeed probe: %1 x its time at calibration%2")
                 .arg(speed, 0, 'f', 2)
                 .arg(drift.empty() ? tr(" (the machine runs as calibrated)")
                                    : tr(": %1. Predictions are for the calibrated speed; Run > Re-calibrate "
                                         "when the machine is back to normal.")
                                          .arg(qs(drift)));
    }
    latency_->setText(text);
    latency_->setToolTip(tip);
  } else {
    latency_->setText(tr("not profiled (Ctrl+R)"));
    latency_->setToolTip(QString());
  }
}

void MainWindow::updateSettingsEditors() {
  const QSignalBlocker a(alpha_), r(resolution_);
  alpha_->setValue(doc_.graph().settings.alpha);
  resolution_->setValue(static_cast<int>(doc_.graph().settings.resolution.value_or(0)));
}

void MainWindow::showError(const QString& title, const QString& text) {
  statusBar()->showMessage(text.section('\n', 0, 0), 10000);
  if (options_.interactive) QMessageBox::warning(this, title, text);
}

void MainWindow::copySelection(bool cut) {
  const auto ids = doc_.selection();
  if (ids.empty()) return;
  const ir::Graph part = edit::extract(doc_.graph(), ids);
  auto* mime = new QMimeData;
  const QByteArray json = QByteArray::fromStdString(io::graph_to_json(part));
  mime->setData(kGraphMime, json);
  mime->setText(QString::fromUtf8(json));
  QApplication::clipboard()->setMimeData(mime);
  if (cut) doc_.removeBlocks(ids);
}

void MainWindow::paste() {
  const QMimeData* mime = QApplication::clipboard()->mimeData();
  if (!mime) return;
  const QByteArray json = mime->hasFormat(kGraphMime) ? mime->data(kGraphMime) : mime->text().toUtf8();
  auto part = io::graph_from_json(json.toStdString());
  if (!part) {
    statusBar()->showMessage(tr("The clipboard holds no ConvScope blocks"), 5000);
    return;
  }
  (void)doc_.pasteBlocks(*part, edit::Pos{40, 40});
}

void MainWindow::findBlock() {
  QStringList ids;
  for (const auto& n : doc_.graph().nodes) ids << qs(n.id);
  bool ok = false;
  const QString id = QInputDialog::getItem(this, tr("Find block"), tr("Block id:"), ids, 0, true, &ok);
  if (!ok || id.isEmpty()) return;
  if (doc_.graph().find(id.toStdString()) < 0) {
    statusBar()->showMessage(tr("No block %1").arg(id), 5000);
    return;
  }
  doc_.select({id.toStdString()});
  if (auto* item = scene_->nodeItem(id.toStdString())) view_->centerOn(item);
}

void MainWindow::startProfile(int min_runs, double min_seconds) {
  if (runner_->busy()) return;
  if (!doc_.analysis().complete()) {
    showError(tr("Profile"),
              tr("Fix the graph's problems before profiling:\n%1").arg(describe(doc_.analysis().diagnostics)));
    emit profileDone(false);
    return;
  }
  ProfileJob job{.graph = doc_.graph(),
                 .weights = doc_.importedWeights(),
                 .threads = threads_->value(),
                 .min_runs = min_runs,
                 .min_seconds = min_seconds,
                 .model = doc_.latencyModel()};
  progress_->setValue(0);
  progress_->setVisible(true);
  profileAction_->setEnabled(false);
  cancelAction_->setEnabled(true);
  runner_->start(std::move(job));
}

void MainWindow::cancelProfile() {
  if (runner_->busy()) runner_->cancel();
}

void MainWindow::loadLatencyModel(bool force) {
  const int threads = threads_->value();
  const auto& kt = kernels::best_kernels();
  if (!force) {
    if (auto cached = profile::load_latency_model(kt, threads); cached.model) {
      doc_.setLatencyModel(*cached.model);
      return;
    }
  }
  if (modelJob_.running()) return;  // when it ends, the Threads setting is checked again
  if (!force && !options_.calibrate_latency) return;
  statusBar()->showMessage(
      tr("Calibrating the latency model for %n thread(s): about 40 s, once per machine…", nullptr, threads));
  auto out = std::make_shared<Result<profile::LatencyModel>>(fail("", "not run"));
  modelJob_.start([threads, force, &kt, out](const std::atomic<bool>& cancel, const Job::Progress&) {
    profile::LatencyCalibrationOptions o;
    o.threads = threads;
    o.cancel = &cancel;
    *out = profile::load_or_calibrate_latency(kt, o, force);
  });
  connect(
      &modelJob_, &Job::finished, this,
      [this, out, threads](const QString& error) {
        const auto& m = *out;
        if (m && threads == threads_->value()) doc_.setLatencyModel(*m);
        if (m)
          statusBar()->showMessage(tr("Latency model ready: %1").arg(qs(m->describe())), 8000);
        else
          statusBar()->showMessage(tr("Latency model: %1").arg(error.isEmpty() ? describe(m.error()) : error), 10000);
        const auto& current = doc_.latencyModel();
        if (!current || current->threads != threads_->value()) loadLatencyModel();  // Threads changed meanwhile
      },
      Qt::SingleShotConnection);
}

void MainWindow::fitOnScreen() {
  // A geometry saved on a larger screen (or one no longer attached) must not put
  // the window, or its status bar, beyond this screen: shrink it, then move it in.
  QScreen* screen = QGuiApplication::screenAt(geometry().center());
  if (!screen) screen = QGuiApplication::primaryScreen();
  if (!screen) return;
  const QRect avail = screen->availableGeometry();
  const QMargins frame(geometry().left() - frameGeometry().left(), geometry().top() - frameGeometry().top(),
                       frameGeometry().right() - geometry().right(), frameGeometry().bottom() - geometry().bottom());
  const QSize room = avail.size().shrunkBy(frame);
  if (width() > room.width() || height() > room.height()) resize(size().boundedTo(room));
  const QRect f = frameGeometry();
  const int x = std::clamp(f.x(), avail.left(), std::max(avail.left(), avail.right() + 1 - f.width()));
  const int y = std::clamp(f.y(), avail.top(), std::max(avail.top(), avail.bottom() + 1 - f.height()));
  if (x != f.x() || y != f.y()) move(x, y);
}

void MainWindow::startCalibration(bool force) {
  // Off the UI thread: the ceilings (cached after the first run; a few seconds to
  // measure), then, when asked to calibrate again, the latency model as well.
  if (ceilingsJob_.running()) {
    if (force) statusBar()->showMessage(tr("The ceilings are being measured already"), 6000);
    return;
  }
  if (force)
    statusBar()->showMessage(tr("Calibrating this machine: its ceilings (a few seconds), then the latency model…"));
  auto cal = std::make_shared<Result<profile::Calibration>>(fail("", "not run"));
  ceilingsJob_.start([cal, force](const std::atomic<bool>&, const Job::Progress&) {
    *cal = profile::load_or_measure(kernels::best_kernels(), force);
  });
  connect(
      &ceilingsJob_, &Job::finished, this,
      [this, cal, force](const QString& error) {
        if (!*cal) {
          if (force) showError(tr("Calibration"), error.isEmpty() ? describe(cal->error()) : error);
          return;
        }
        if (force || !doc_.calibration()) doc_.setCalibration(**cal);
        if (!force) return;
        statusBar()->showMessage(tr("Calibrated: %1 GFLOP/s peak, DRAM %2 GB/s; now the latency model…")
                                     .arg((*cal)->peak_gflops_1, 0, 'f', 1)
                                     .arg((*cal)->dram_gbps, 0, 'f', 1));
        loadLatencyModel(true);
      },
      Qt::SingleShotConnection);
}

}  // namespace convscope::gui
