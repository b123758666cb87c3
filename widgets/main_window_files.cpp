// The main window's files: open (dialog, path, preset), save and save as (atomic),
// the unsaved-changes prompt, recent files, autosave and recovery, export of the
// design (JSON, ONNX, PyTorch, DOT, CSV) and of the canvas (PNG, SVG, PDF).
#include <QAction>
#include <QCloseEvent>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QImage>
#include <QInputDialog>
#include <QLockFile>
#include <QMenu>
#include <QMessageBox>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QSvgGenerator>

#include "canvas.h"
#include "io/design_export.h"
#include "io/graph_json.h"
#include "io/presets.h"
#include "main_window.h"
#include "plots.h"
#include "profile_runner.h"
#include "qt_strings.h"

namespace convscope::gui {
namespace {
constexpr int kMaxRecent = 8;
}  // namespace

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
  QString path =
      QFileDialog::getSaveFileName(this, tr("Save design"), suggestedPath(".json"), tr("ConvScope graph (*.json)"));
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
