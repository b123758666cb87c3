// The main window's menus, toolbar and shortcuts (File, Edit, View, Run, Tools,
// Help) and the shortcut list Help shows, read from the menus themselves.
#include <QAction>
#include <QActionGroup>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QHeaderView>
#include <QKeySequence>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSpinBox>
#include <QStatusBar>
#include <QStyle>
#include <QTableWidget>
#include <QThread>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include "canvas.h"
#include "compression_dialog.h"
#include "cost_table.h"
#include "io/presets.h"
#include "main_window.h"
#include "profile/latency_calibration.h"
#include "qt_strings.h"

namespace convscope::gui {

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
    a->setToolTip(menuAction->text().remove('&') + " (" + menuAction->shortcut().toString(QKeySequence::NativeText) +
                  ")");
    connect(a, &QAction::triggered, menuAction, &QAction::trigger);
    connect(menuAction, &QAction::changed, a, [a, menuAction] {
      a->setEnabled(menuAction->isEnabled());
      a->setToolTip(menuAction->text().remove('&') + " (" + menuAction->shortcut().toString(QKeySequence::NativeText) +
                    ")");
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
  colour_->setToolTip(
      tr("What the canvas colours each block by: its share of the MAdds, of the parameters, or of "
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
  cancelAction_->setToolTip(
      tr("Stop the running profile (%1)").arg(cancelAction_->shortcut().toString(QKeySequence::NativeText)));
  profileAction_->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
  cancelAction_->setIcon(style()->standardIcon(QStyle::SP_MediaStop));
  tb->addAction(profileAction_);
  tb->addAction(cancelAction_);
  // Icon only for files and undo / redo (as desktop apps do); the profile keeps its word.
  tb->setToolButtonStyle(Qt::ToolButtonIconOnly);
  for (QAction* a : {profileAction_, cancelAction_})
    if (auto* b = qobject_cast<QToolButton*>(tb->widgetForAction(a)))
      b->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
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

}  // namespace convscope::gui
