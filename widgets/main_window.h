#pragma once
/// The main window: palette (left), canvas (centre), inspector (right), cost
/// table, plots, block comparison and sweep (bottom, tabbed docks), a toolbar
/// with the document settings (width multiplier, resolution) and profiling, a status bar
/// with live totals, and the File / Edit / View / Run / Help menus. Dock layout,
/// recent files and window geometry are remembered (QSettings); the document is
/// autosaved and recovered after a crash.

#include <QMainWindow>
#include <QPointer>
#include <atomic>
#include <memory>

#include "document.h"
#include "job.h"

class QDoubleSpinBox;
class QThread;
class QLockFile;
class QLabel;
class QMenu;
class QProgressBar;
class QSpinBox;
class QComboBox;
class QTimer;

namespace convscope::gui {

class CanvasScene;
class CanvasView;
class ComparePanel;
class CostTable;
class CompressionDialog;
class Inspector;
class Palette;
class PlotsPanel;
class ProfileRunner;
class SweepPanel;

struct MainWindowOptions {
  /// Look for autosaves of a previous session and offer to recover them.
  bool recover = true;
  /// Ask before discarding unsaved changes (tests turn this off).
  bool interactive = true;
  /// Calibrate a latency model in the background when none is cached (tests turn this off).
  bool calibrate_latency = true;
};

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(const MainWindowOptions& options = {}, QWidget* parent = nullptr);
  ~MainWindow() override;

  [[nodiscard]] Document* document() { return &doc_; }
  [[nodiscard]] CanvasScene* scene() const { return scene_; }
  [[nodiscard]] CanvasView* view() const { return view_; }
  [[nodiscard]] Palette* palette() const { return palette_; }
  [[nodiscard]] Inspector* inspector() const { return inspector_; }
  [[nodiscard]] CostTable* costTable() const { return table_; }
  [[nodiscard]] PlotsPanel* plots() const { return plots_; }
  [[nodiscard]] ComparePanel* comparePanel() const { return compare_; }
  /// The sweep view (the "Sweep" dock, tabified with the block comparison).
  [[nodiscard]] SweepPanel* sweepPanel() const { return sweep_; }
  [[nodiscard]] ProfileRunner* runner() const { return runner_; }
  /// The status bar's live totals, as shown ("3,504,872 params · ...").
  [[nodiscard]] QString totalsText() const;

  /// Opens a file or preset name; on failure shows the message (when interactive)
  /// and leaves the current document untouched.
  Result<bool> openPath(const QString& path);
  /// Loads the bundled preset `name` (e.g. "mobilenet_v2").
  Result<bool> openPreset(const QString& name);
  /// Starts a profile of the current graph (threads from the toolbar).
  void startProfile(int min_runs = 10, double min_seconds = 0.5);
  void cancelProfile();
  /// Saves an image of the canvas (.png, .svg or .pdf by suffix).
  Result<bool> exportCanvas(const QString& path);
  /// Exports the design: .onnx, .py (PyTorch), .dot, .csv (per-layer report) or .json.
  Result<bool> exportDesign(const QString& path);
  /// Where autosaves go.
  [[nodiscard]] static QString autosaveDir();
  /// Where a save or export dialog starts: the design's own file for Save As,
  /// else safeFileName(design name) + ext in the design's folder, the folder last
  /// used, or the documents folder.
  [[nodiscard]] QString suggestedPath(const QString& ext) const;
  /// Writes the autosave now (when modified).
  void autosave();
  /// Lays the docks out for the window's size: side panels at their widths, and
  /// the bottom panels side by side, or in one tabbed area in a small window so
  /// that the canvas keeps most of the room (View > Reset Layout).
  void arrangeDocks();
  /// Whether the window counts as small (under 1300 x 850): each size class has
  /// its own remembered dock layout.
  [[nodiscard]] bool isSmall() const;

 signals:
  /// A profile run finished (true) or failed / was cancelled (false).
  void profileDone(bool ok);

 protected:
  void closeEvent(QCloseEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void showEvent(QShowEvent* event) override;

 private:
  void buildActions();
  void buildDocks();
  void updateTitle();
  void updateStatus();
  void updateSettingsEditors();
  /// Counting convention and memory view: applied to the document, remembered, menus checked.
  void setAnalysisOptions(const cost::AnalysisOptions& options);
  bool maybeSave();
  bool save();
  bool saveAs();
  /// Remembers the folder of a file the user chose, for the next dialog.
  static void rememberFolder(const QString& path);
  void openDialog();
  void addRecent(const QString& path);
  void rebuildRecentMenu();
  void showError(const QString& title, const QString& text);
  void copySelection(bool cut);
  void paste();
  void findBlock();
  void recoverAutosave();
  void removeAutosave();
  void exportDialog();
  /// Help > Keyboard Shortcuts: every menu command that has keys, read from the menus.
  void showShortcuts();
  void exportImageDialog();
  /// The roofline ceilings, off the UI thread; `force` measures them again and
  /// then recalibrates the latency model (Run > Re-calibrate).
  void startCalibration(bool force = false);
  /// Shrinks and moves the window onto the screen it is on (or the primary one).
  void fitOnScreen();
  /// The latency model for the Threads setting: the cached one, else a
  /// calibration in the background (about 10 s, once per machine and thread count).
  void loadLatencyModel(bool force = false);

  MainWindowOptions options_;
  /// Dock layouts by size class ("small", "large"), restored when the window crosses over.
  std::map<QString, QByteArray> dockStates_;
  QString sizeClass_;
  Document doc_;
  CanvasScene* scene_ = nullptr;
  CanvasView* view_ = nullptr;
  Palette* palette_ = nullptr;
  Inspector* inspector_ = nullptr;
  CompressionDialog* compression_ = nullptr;  ///< Tools > Deep Compression, made on first use
  CostTable* table_ = nullptr;
  PlotsPanel* plots_ = nullptr;
  ComparePanel* compare_ = nullptr;
  SweepPanel* sweep_ = nullptr;
  ProfileRunner* runner_ = nullptr;
  QDoubleSpinBox* alpha_ = nullptr;
  QSpinBox* resolution_ = nullptr;
  QSpinBox* threads_ = nullptr;
  Job modelJob_;     ///< calibrating a latency model (cancelled and waited for on close)
  Job ceilingsJob_;  ///< loading or measuring this machine's ceilings
  QComboBox* colour_ = nullptr;
  QLabel* totals_ = nullptr;
  QLabel* latency_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QAction* profileAction_ = nullptr;
  QActionGroup* conventionGroup_ = nullptr;
  QActionGroup* memoryGroup_ = nullptr;
  QAction* cancelAction_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  QTimer* autosaveTimer_ = nullptr;
  QString autosavePath_;
  std::unique_ptr<QLockFile> sessionLock_;
};

/// Paths of the bundled presets (name order), as the engine finds them (io::preset_files).
QStringList presetFiles();
/// A file name for a design called `name`, whole: "MobileNetV2 1.0/224" -> "MobileNetV2_1.0_224"
/// (letters, digits, '.', '-' and '_' kept, anything else one '_'); "design" when nothing is left.
QString safeFileName(const QString& name);

}  // namespace convscope::gui
