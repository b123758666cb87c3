#include "main_window.h"

#include <functional>

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLockFile>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPdfWriter>
#include <QProgressBar>
#include <QScreen>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableWidget>
#include <QSvgGenerator>
#include <QThread>
#include <QStyle>
#include <QToolButton>
#include <QTimer>
#include <QToolBar>
#include <QUuid>
#include <QVBoxLayout>

#include "canvas.h"
#include "compare_panel.h"
#include "compression_dialog.h"
#include "elided_label.h"
#include "cost_table.h"
#include "inspector.h"
#include "io/design_export.h"
#include "io/graph_json.h"
#include "io/presets.h"
#include "io/report.h"
#include "layout.h"
#include "palette.h"
#include "plots.h"
#include "profile/latency_calibration.h"
#include "profile_runner.h"
#include "qt_strings.h"
#include "sweep_panel.h"

namespace convscope::gui {
namespace {

constexpr const char* kGraphMime = "application/x-convscope-graph";
constexpr int kMaxRecent = 8;
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
        }
        else if (id)
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

void MainWindow::buildActions() {
  auto add = [this](QMenu* menu, const QString& text, const QKeySequence& key, auto slot) {
    auto* a = menu->addAction(text);
    if (!key.isEmpty()) a->setShortcut(key);
    connect(a, &QAction::triggered, this, slot);
    return a;
  };

  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* newAction = add(file, tr("&New"), QKeySequence::New, [this] {
    if (!maybeSave()) return;
    ir::Graph g;
    g.name = "untitled";
    (void)edit::add_block(g, "input", edit::Pos{0, 0});
    doc_.reset(std::move(g));
    view_->fitAll();
  });
  QAction* openAction = add(file, tr("&Open…"), QKeySequence::Open, &MainWindow::openDialog);
  recentMenu_ = file->addMenu(tr("Open &Recent"));
  QMenu* presets = file->addMenu(tr("&Presets"));
  for (const QString& path : presetFiles()) {
    const QString name = QFileInfo(path).completeBaseName();
    auto* a = presets->addAction(name);
    connect(a, &QAction::triggered, this, [this, name] {
      if (!maybeSave()) return;
      (void)openPreset(name);
    });
  }
  file->addSeparator();
  QAction* saveAction = add(file, tr("&Save"), QKeySequence::Save, [this] { save(); });
  // QKeySequence::SaveAs is empty on plain X11 (no desktop theme): name the usual keys.
  add(file, tr("Save &As…"), QKeySequence(tr("Ctrl+Shift+S")), [this] { saveAs(); })->setObjectName("saveAs");
  file->addSeparator();
  add(file, tr("&Export design…"), QKeySequence(tr("Ctrl+E")), &MainWindow::exportDialog);
  add(file, tr("Export &image…"), QKeySequence(tr("Ctrl+Shift+E")), &MainWindow::exportImageDialog);
  file->addSeparator();
  add(file, tr("&Quit"), QKeySequence::Quit, [this] { close(); });

  QMenu* editMenu = menuBar()->addMenu(tr("&Edit"));
  QAction* undo = doc_.undoStack()->createUndoAction(this, tr("&Undo"));
  undo->setShortcut(QKeySequence::Undo);
  QAction* redo = doc_.undoStack()->createRedoAction(this, tr("&Redo"));
  // Ctrl+Shift+Z and Ctrl+Y on every platform, besides the platform's own redo key.
  QList<QKeySequence> redoKeys = QKeySequence::keyBindings(QKeySequence::Redo);
  for (const QKeySequence& k : {QKeySequence(tr("Ctrl+Shift+Z")), QKeySequence(tr("Ctrl+Y"))})
    if (!redoKeys.contains(k)) redoKeys.push_back(k);
  redo->setShortcuts(redoKeys);
  editMenu->addAction(undo);
  editMenu->addAction(redo);
  editMenu->addSeparator();
  add(editMenu, tr("Cu&t"), QKeySequence::Cut, [this] { copySelection(true); });
  add(editMenu, tr("&Copy"), QKeySequence::Copy, [this] {
    if (table_->hasFocus())
      table_->copyCsv();
    else
      copySelection(false);
  });
  add(editMenu, tr("&Paste"), QKeySequence::Paste, &MainWindow::paste);
  add(editMenu, tr("&Delete"), QKeySequence::Delete, [this] { scene_->deleteSelection(); });
  add(editMenu, tr("Select &All"), QKeySequence::SelectAll, [this] {
    std::vector<std::string> ids;
    for (const auto& n : doc_.graph().nodes) ids.push_back(n.id);
    doc_.select(ids);
  });
  add(editMenu, tr("&Find Block…"), QKeySequence::Find, &MainWindow::findBlock);
  editMenu->addSeparator();
  add(editMenu, tr("Copy Cost Table as CSV"), QKeySequence(tr("Ctrl+Shift+C")), [this] { table_->copyCsv(); });

  QMenu* viewMenu = menuBar()->addMenu(tr("&View"));
  add(viewMenu, tr("&Fit to View"), QKeySequence(tr("F")), [this] { view_->fitAll(); });
  add(viewMenu, tr("Zoom &In"), QKeySequence::ZoomIn, [this] { view_->zoomBy(1.25); });
  add(viewMenu, tr("Zoom &Out"), QKeySequence::ZoomOut, [this] { view_->zoomBy(0.8); });
  add(viewMenu, tr("Automatic &Layout"), QKeySequence(tr("Ctrl+L")), [this] {
    doc_.autoLayout();
    view_->showStart();
  });
  viewMenu->addSeparator();
  // How costs are counted: the same switches as the CLI's --convention and --memory.
  QMenu* counting = viewMenu->addMenu(tr("&Counting Convention"));
  counting->setToolTipsVisible(true);
  conventionGroup_ = new QActionGroup(this);
  for (const cost::Convention& c : cost::named_conventions()) {
    QAction* a = counting->addAction(qs(c.name));
    a->setObjectName(qs("convention_" + c.name));
    a->setCheckable(true);
    a->setData(qs(c.name));
    a->setToolTip(qs(c.description));
    conventionGroup_->addAction(a);
    connect(a, &QAction::triggered, this, [this, c] {
      cost::AnalysisOptions o = doc_.analysisOptions();
      o.convention = c;
      setAnalysisOptions(o);
    });
  }
  QMenu* memory = viewMenu->addMenu(tr("Peak &Memory"));
  memory->setToolTipsVisible(true);
  memoryGroup_ = new QActionGroup(this);
  for (const auto& [view, text, tip] :
       {std::tuple{cost::MemoryView::Ops, tr("Every Op's Output"),
                   tr("Every op materialises its output (what a plain executor holds)")},
        std::tuple{cost::MemoryView::Blocks, tr("Blocks as Single Ops"),
                   tr("A block's inner tensors are disposable (MobileNetV2 paper, section 5.1)")}}) {
    QAction* a = memory->addAction(text);
    a->setObjectName(qs("memory_" + std::string(cost::memory_view_name(view))));
    a->setCheckable(true);
    a->setData(qs(std::string(cost::memory_view_name(view))));
    a->setToolTip(tip);
    memoryGroup_->addAction(a);
    connect(a, &QAction::triggered, this, [this, v = view] {
      cost::AnalysisOptions o = doc_.analysisOptions();
      o.memory_view = v;
      setAnalysisOptions(o);
    });
  }
  viewMenu->addSeparator();
  for (QDockWidget* dock : findChildren<QDockWidget*>()) viewMenu->addAction(dock->toggleViewAction());
  add(viewMenu, tr("Reset &Layout"), QKeySequence(), &MainWindow::arrangeDocks)->setObjectName("resetLayout");

  QMenu* run = menuBar()->addMenu(tr("&Run"));
  profileAction_ = add(run, tr("&Profile"), QKeySequence(tr("Ctrl+R")), [this] { startProfile(); });
  cancelAction_ = add(run, tr("&Cancel Profile"), QKeySequence(tr("Esc")), &MainWindow::cancelProfile);
  cancelAction_->setEnabled(false);
  add(run, tr("Re-&calibrate"), QKeySequence(), [this] { startCalibration(true); });

  QMenu* tools = menuBar()->addMenu(tr("&Tools"));
  add(tools, tr("Deep &Compression..."), QKeySequence(), [this] {
    if (!compression_) compression_ = new CompressionDialog(&doc_, this);
    compression_->show();
    compression_->raise();
    compression_->activateWindow();
  })->setObjectName("deepCompression");

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  add(help, tr("&Keyboard Shortcuts"), QKeySequence(tr("Ctrl+/")), &MainWindow::showShortcuts)
      ->setObjectName("keyboardShortcuts");
  add(help, tr("&About ConvScope"), QKeySequence(), [this] {
    QMessageBox::about(
        this, tr("About ConvScope"),
        tr("<h3>ConvScope %1</h3><p>A workbench for efficient CNN building blocks: standard, depthwise-separable, "
           "fire, interleaved group and inverted-residual blocks.</p><p>Parameters, multiply-adds and memory are "
           "computed live by the engine; latency is measured on ConvScope's own SIMD CPU backend and set against "
           "the roofline of this machine.</p><p>Qt %2 · QCustomPlot · Graphviz</p>")
            .arg(QStringLiteral(CONVSCOPE_VERSION), QString::fromLatin1(qVersion())));
  });

  // Toolbar: files, document settings, colouring, profiling.
  QToolBar* tb = addToolBar(tr("Main"));
  tb->setObjectName("mainToolbar");
  // Icons from the style (every platform has them), the command and its keys in the tooltip.
  auto iconAndTip = [this](QAction* a, QStyle::StandardPixmap icon, const QString& what) {
    a->setIcon(style()->standardIcon(icon));
    a->setToolTip(a->shortcut().isEmpty() ? what
                                           : what + " (" + a->shortcut().toString(QKeySequence::NativeText) + ")");
  };
  iconAndTip(newAction, QStyle::SP_FileIcon, tr("New design"));
  iconAndTip(openAction, QStyle::SP_DialogOpenButton, tr("Open a design, ONNX model or preset"));
  iconAndTip(saveAction, QStyle::SP_DialogSaveButton, tr("Save"));
  tb->addAction(newAction);
  tb->addAction(openAction);
  tb->addAction(saveAction);
  tb->addSeparator();
  // Undo and redo with fixed labels (the menu's carry the command, "Undo Set ir3.expansion = 4",
  // which made the toolbar jump at every edit); the command is in the tooltip.
  for (QAction* menuAction : {undo, redo}) {
    const bool isUndo = menuAction == undo;
    auto* a = new QAction(style()->standardIcon(isUndo ? QStyle::SP_ArrowBack : QStyle::SP_ArrowForward),
                          isUndo ? tr("Undo") : tr("Redo"), tb);
    a->setObjectName(isUndo ? "toolbarUndo" : "toolbarRedo");
    a->setEnabled(menuAction->isEnabled());
    a->setToolTip(menuAction->text().remove('&') + " (" + menuAction->shortcut().toString(QKeySequence::NativeText) + ")");
    connect(a, &QAction::triggered, menuAction, &QAction::trigger);
    connect(menuAction, &QAction::changed, a, [a, menuAction] {
      a->setEnabled(menuAction->isEnabled());
      a->setToolTip(menuAction->text().remove('&') + " (" +
                    menuAction->shortcut().toString(QKeySequence::NativeText) + ")");
    });
    tb->addAction(a);
  }
  tb->addSeparator();
  tb->addWidget(new QLabel(tr(" α ")));
  alpha_ = new QDoubleSpinBox;
  alpha_->setObjectName("alpha");
  alpha_->setRange(0.05, 4.0);
  alpha_->setSingleStep(0.05);
  alpha_->setDecimals(3);
  alpha_->setToolTip(tr("Width multiplier α: scales every block's channel counts (make_divisible by 8)"));
  connect(alpha_, &QDoubleSpinBox::valueChanged, this, [this](double a) {
    if (a != doc_.graph().settings.alpha) doc_.setAlpha(a);
  });
  tb->addWidget(alpha_);
  tb->addWidget(new QLabel(tr("  resolution ")));
  resolution_ = new QSpinBox;
  resolution_->setObjectName("resolution");
  resolution_->setRange(0, 4096);
  resolution_->setSpecialValueText(tr("as inputs"));
  resolution_->setToolTip(tr("Input resolution ρ (overrides every input's height and width; 0 = as the inputs say)"));
  connect(resolution_, &QSpinBox::valueChanged, this, [this](int r) {
    const std::optional<std::int64_t> want = r > 0 ? std::optional<std::int64_t>(r) : std::nullopt;
    if (want != doc_.graph().settings.resolution) doc_.setResolution(want);
  });
  tb->addWidget(resolution_);
  tb->addSeparator();
  tb->addWidget(new QLabel(tr(" colour by ")));
  colour_ = new QComboBox;
  colour_->setObjectName("colourBy");
  colour_->addItem(tr("MAdds"), static_cast<int>(CostColour::MAdds));
  colour_->addItem(tr("parameters"), static_cast<int>(CostColour::Params));
  colour_->addItem(tr("latency"), static_cast<int>(CostColour::Latency));
  colour_->addItem(tr("nothing"), static_cast<int>(CostColour::None));
  colour_->setToolTip(tr("What the canvas colours each block by: its share of the MAdds, of the parameters, or of "
                        "the measured latency (after a profile)"));
  connect(colour_, &QComboBox::currentIndexChanged, this,
          [this](int) { scene_->setCostColour(static_cast<CostColour>(colour_->currentData().toInt())); });
  tb->addWidget(colour_);
  tb->addSeparator();
  tb->addWidget(new QLabel(tr(" threads ")));
  threads_ = new QSpinBox;
  threads_->setObjectName("threads");
  threads_->setRange(1, std::max(1, QThread::idealThreadCount()));
  threads_->setValue(1);
  threads_->setToolTip(tr("Worker threads for Profile (1 gives the steadiest figures on a shared machine)"));
  tb->addWidget(threads_);
  connect(threads_, &QSpinBox::valueChanged, this, [this] { loadLatencyModel(); });
  profileAction_->setToolTip(tr("Run the design on the CPU backend and measure every layer (%1)")
                                 .arg(profileAction_->shortcut().toString(QKeySequence::NativeText)));
  cancelAction_->setToolTip(tr("Stop the running profile (%1)")
                                .arg(cancelAction_->shortcut().toString(QKeySequence::NativeText)));
  profileAction_->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
  cancelAction_->setIcon(style()->standardIcon(QStyle::SP_MediaStop));
  tb->addAction(profileAction_);
  tb->addAction(cancelAction_);
  // Icon only for files and undo / redo (as desktop apps do); the profile keeps its word.
  tb->setToolButtonStyle(Qt::ToolButtonIconOnly);
  for (QAction* a : {profileAction_, cancelAction_})
    if (auto* b = qobject_cast<QToolButton*>(tb->widgetForAction(a))) b->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
}

void MainWindow::showShortcuts() {
  // Read from the menus themselves, so the list cannot drift from what the keys do.
  auto* dialog = new QDialog(this);
  dialog->setObjectName("shortcutsDialog");
  dialog->setWindowTitle(tr("Keyboard Shortcuts"));
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  auto* table = new QTableWidget(0, 3, dialog);
  table->setObjectName("shortcutsTable");
  table->setHorizontalHeaderLabels({tr("Menu"), tr("Command"), tr("Keys")});
  table->verticalHeader()->hide();
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  std::function<void(QMenu*, const QString&)> walk = [&](QMenu* menu, const QString& where) {
    for (QAction* a : menu->actions()) {
      if (a->menu()) {
        walk(a->menu(), where + " › " + a->text().remove('&'));
        continue;
      }
      if (a->shortcut().isEmpty()) continue;
      const int row = table->rowCount();
      table->insertRow(row);
      table->setItem(row, 0, new QTableWidgetItem(where));
      table->setItem(row, 1, new QTableWidgetItem(a->text().remove('&')));
      table->setItem(row, 2, new QTableWidgetItem(a->shortcut().toString(QKeySequence::NativeText)));
    }
  };
  for (QAction* top : menuBar()->actions())
    if (top->menu()) walk(top->menu(), top->text().remove('&'));
  table->resizeColumnsToContents();
  table->horizontalHeader()->setStretchLastSection(true);
  auto* layout = new QVBoxLayout(dialog);
  layout->addWidget(table);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
  connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
  layout->addWidget(buttons);
  dialog->resize(560, 520);
  dialog->show();
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
    totals_->setToolTip(tr("Predicted by the %1%2")
                            .arg(qs(m->describe()),
                                 doc_.extrapolatedSteps() > 0
                                     ? tr("; %n step(s) outside the calibrated shapes", nullptr, doc_.extrapolatedSteps())
                                     : QString()));
  else
    totals_->setToolTip(tr("No latency model for this machine and thread count yet (Run > Re-calibrate)"));
  totals_->setStyleSheet(doc_.analysis().complete() ? QString() : QStringLiteral("color: #c62828"));
  if (const ProfileData* p = doc_.profile()) {
    const auto& n = p->result.network_ns;
    QString text = tr("measured %1 (min %2, p90 %3, %4)")
                       .arg(latency_text(n.median), latency_text(n.min), latency_text(n.p90), qs(p->result.isa));
    if (!doc_.profileCurrent()) text += tr(" — before the last edit");
    latency_->setText(text);
  } else {
    latency_->setText(tr("not profiled (Ctrl+R)"));
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

bool MainWindow::maybeSave() {
  if (!doc_.isModified() || !options_.interactive) return true;
  const auto answer = QMessageBox::warning(this, tr("Unsaved changes"),
                                           tr("%1 has unsaved changes. Save them?").arg(doc_.displayName()),
                                           QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel);
  if (answer == QMessageBox::Save) return save();
  return answer == QMessageBox::Discard;
}

bool MainWindow::save() {
  if (doc_.path().isEmpty()) return saveAs();
  auto ok = doc_.save();
  if (!ok) {
    showError(tr("Save"), tr("Could not save %1:\n%2").arg(doc_.path(), describe(ok.error())));
    return false;
  }
  addRecent(doc_.path());
  removeAutosave();
  statusBar()->showMessage(tr("Saved %1").arg(doc_.path()), 5000);
  return true;
}

QString MainWindow::suggestedPath(const QString& ext) const {
  if (ext == ".json" && !doc_.path().isEmpty() && QFileInfo(doc_.path()).suffix() == "json") return doc_.path();
  QString dir;
  if (!doc_.path().isEmpty())
    dir = QFileInfo(doc_.path()).absolutePath();
  else
    dir = QSettings().value("lastFolder").toString();
  if (dir.isEmpty() || !QFileInfo(dir).isDir())
    dir = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
  if (dir.isEmpty()) dir = QDir::homePath();
  return QDir(dir).filePath(safeFileName(qs(doc_.graph().name)) + ext);
}

void MainWindow::rememberFolder(const QString& path) {
  QSettings().setValue("lastFolder", QFileInfo(path).absolutePath());
}

bool MainWindow::saveAs() {
  QString path = QFileDialog::getSaveFileName(this, tr("Save design"), suggestedPath(".json"),
                                              tr("ConvScope graph (*.json)"));
  if (path.isEmpty()) return false;
  rememberFolder(path);
  if (QFileInfo(path).suffix().isEmpty()) path += ".json";
  auto ok = doc_.save(path);
  if (!ok) {
    showError(tr("Save"), tr("Could not save %1:\n%2").arg(path, describe(ok.error())));
    return false;
  }
  addRecent(path);
  removeAutosave();
  return true;
}

void MainWindow::openDialog() {
  if (!maybeSave()) return;
  const QString path = QFileDialog::getOpenFileName(this, tr("Open design"), QSettings().value("lastFolder").toString(),
                                                    tr("Designs (*.json *.onnx);;ConvScope graph (*.json);;ONNX model "
                                                       "(*.onnx);;All files (*)"));
  if (path.isEmpty()) return;
  rememberFolder(path);
  (void)openPath(path);
}

Result<bool> MainWindow::openPath(const QString& path) {
  QString file = path;
  if (!QFileInfo::exists(file)) {
    // A preset name.
    for (const QString& p : presetFiles())
      if (QFileInfo(p).completeBaseName() == path) return openPreset(path);
  }
  auto ok = doc_.open(file);
  if (!ok) {
    showError(tr("Open"), tr("Could not open %1:\n%2").arg(file, describe(ok.error())));
    return ok;
  }
  if (!doc_.path().isEmpty()) addRecent(doc_.path());
  view_->showStart();
  statusBar()->showMessage(tr("Opened %1").arg(file), 5000);
  return true;
}

Result<bool> MainWindow::openPreset(const QString& name) {
  for (const QString& p : presetFiles()) {
    if (QFileInfo(p).completeBaseName() != name) continue;
    auto g = io::load_graph(p.toStdString());
    if (!g) {
      showError(tr("Open preset"), describe(g.error()));
      return tl::unexpected(g.error());
    }
    // A preset opens as an untitled copy: Save asks where, and the bundled file stays as it is.
    doc_.reset(std::move(*g));
    view_->showStart();
    return true;
  }
  showError(tr("Open preset"), tr("No preset named %1").arg(name));
  return fail("", "no preset named " + name.toStdString());
}

void MainWindow::addRecent(const QString& path) {
  QSettings settings;
  QStringList recent = settings.value("recentFiles").toStringList();
  const QString abs = QFileInfo(path).absoluteFilePath();
  recent.removeAll(abs);
  recent.prepend(abs);
  while (recent.size() > kMaxRecent) recent.removeLast();
  settings.setValue("recentFiles", recent);
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  recentMenu_->clear();
  const QStringList recent = QSettings().value("recentFiles").toStringList();
  for (const QString& path : recent) {
    auto* a = recentMenu_->addAction(QFileInfo(path).fileName());
    a->setToolTip(path);
    connect(a, &QAction::triggered, this, [this, path] {
      if (maybeSave()) (void)openPath(path);
    });
  }
  recentMenu_->setEnabled(!recent.isEmpty());
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
      tr("Calibrating the latency model for %n thread(s): about 10 s, once per machine…", nullptr, threads));
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
  if (force) statusBar()->showMessage(tr("Calibrating this machine: its ceilings (a few seconds), then the latency model…"));
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

Result<bool> MainWindow::exportCanvas(const QString& path) {
  QRectF r;
  for (QGraphicsItem* item : scene_->items()) r |= item->sceneBoundingRect();
  if (r.isEmpty()) return fail("", "the canvas is empty");
  r.adjust(-20, -20, 20, 20);
  const QString suffix = QFileInfo(path).suffix().toLower();
  scene_->clearSelection();
  if (suffix == "svg") {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(r.size().toSize());
    svg.setViewBox(QRectF(QPointF(0, 0), r.size()));
    svg.setTitle(doc_.displayName());
    QPainter p(&svg);
    scene_->render(&p, QRectF(QPointF(0, 0), r.size()), r);
    return true;
  }
  if (suffix == "pdf") {
    QPdfWriter pdf(path);
    pdf.setPageSize(QPageSize(r.size(), QPageSize::Point));
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
    QPainter p(&pdf);
    scene_->render(&p, QRectF(), r);
    return true;
  }
  if (suffix == "png") {
    const double scale = std::min(2.0, 16000.0 / std::max(r.width(), r.height()));
    QImage img((r.size() * scale).toSize(), QImage::Format_ARGB32);
    img.fill(Qt::white);
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    scene_->render(&p, QRectF(), r);
    p.end();
    if (!img.save(path)) return fail(path.toStdString(), "could not write the image");
    return true;
  }
  return fail(path.toStdString(), "unknown image type: use .png, .svg or .pdf");
}

Result<bool> MainWindow::exportDesign(const QString& path) {
  const auto format = io::export_format_for_path(path.toStdString());
  if (!format) return fail(path.toStdString(), "unknown export type: use .onnx, .py, .dot, .csv or .json");
  auto bytes = io::export_design(doc_.graph(), doc_.analysis(), *format, doc_.importedWeights());
  if (!bytes) return tl::unexpected(bytes.error());
  return io::write_file_atomic(path.toStdString(), *bytes);
}

void MainWindow::exportDialog() {
  QString filter;
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Export design"), suggestedPath(".onnx"),
      tr("ONNX model (*.onnx);;PyTorch module (*.py);;Graphviz DOT (*.dot);;Per-layer report (*.csv);;ConvScope "
         "graph (*.json)"),
      &filter);
  if (path.isEmpty()) return;
  rememberFolder(path);
  QString target = path;
  if (QFileInfo(target).suffix().isEmpty()) target += filter.section("*", 1, 1).section(")", 0, 0);
  auto ok = exportDesign(target);
  if (!ok)
    showError(tr("Export"), tr("Could not export %1:\n%2").arg(target, describe(ok.error())));
  else
    statusBar()->showMessage(tr("Exported %1").arg(target), 5000);
}

void MainWindow::exportImageDialog() {
  const QStringList choices{tr("Canvas"), tr("Current plot")};
  bool ok = false;
  const QString what = QInputDialog::getItem(this, tr("Export image"), tr("What:"), choices, 0, false, &ok);
  if (!ok) return;
  QString path = QFileDialog::getSaveFileName(this, tr("Export image"), suggestedPath(".png"),
                                              tr("PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"));
  if (path.isEmpty()) return;
  rememberFolder(path);
  if (what == choices[0]) {
    auto r = exportCanvas(path);
    if (!r) showError(tr("Export image"), describe(r.error()));
  } else {
    QString error;
    if (!plots_->exportCurrent(path, &error)) showError(tr("Export image"), error);
  }
}

QString MainWindow::autosaveDir() {
  return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + "/autosave";
}

void MainWindow::autosave() {
  if (!doc_.isModified()) return;
  const std::string text = io::graph_to_json(doc_.graph());
  if (io::write_file_atomic(autosavePath_.toStdString(), text)) {
    // Beside it, where the design came from (so recovery can offer the original file name).
    QFile origin(autosavePath_ + ".origin");
    if (origin.open(QIODevice::WriteOnly | QIODevice::Truncate)) origin.write(doc_.path().toUtf8());
  }
}

void MainWindow::removeAutosave() {
  QFile::remove(autosavePath_);
  QFile::remove(autosavePath_ + ".origin");
}

void MainWindow::recoverAutosave() {
  QDir dir(autosaveDir());
  for (const QString& name : dir.entryList({"*.json"}, QDir::Files, QDir::Time)) {
    const QString path = dir.filePath(name);
    if (path == autosavePath_) continue;
    QLockFile lock(dir.filePath(QFileInfo(name).completeBaseName() + ".lock"));
    lock.setStaleLockTime(0);
    if (!lock.tryLock(0)) continue;  // another running session's
    auto g = io::load_graph(path.toStdString());
    QFile origin_file(path + ".origin");
    QString origin;
    if (origin_file.open(QIODevice::ReadOnly)) origin = QString::fromUtf8(origin_file.readAll());
    origin_file.close();
    bool take = false;
    if (g && options_.interactive) {
      take = QMessageBox::question(this, tr("Recover design"),
                                   tr("ConvScope did not close cleanly. Recover the autosaved design \"%1\" from %2?")
                                       .arg(qs(g->name), QFileInfo(path).lastModified().toString()),
                                   QMessageBox::Yes | QMessageBox::No) == QMessageBox::Yes;
    }
    if (take) {
      if (!origin.isEmpty() && QFileInfo::exists(origin)) {
        (void)doc_.open(origin);
      } else {
        ir::Graph empty;
        empty.name = g->name;
        doc_.reset(empty, origin);
      }
      doc_.apply(tr("Recover autosave"), std::move(*g));
      view_->fitAll();
    }
    QFile::remove(path);
    QFile::remove(path + ".origin");
    lock.unlock();
    QFile::remove(lock.fileName());
    if (take) break;
  }
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (!maybeSave()) {
    event->ignore();
    return;
  }
  if (runner_->busy()) runner_->cancel();
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  if (!sizeClass_.isEmpty()) dockStates_[sizeClass_] = saveState();
  for (const auto& [cls, state] : dockStates_) settings.setValue("window/state-" + cls, state);
  settings.remove("window/state");  // the single layout of earlier versions
  removeAutosave();
  event->accept();
}

}  // namespace convscope::gui
