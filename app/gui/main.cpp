// convscope: the desktop workbench. Opens the file given on the command line
// (a graph file, an ONNX model or a preset name), else MobileNetV2 1.0/224.
// --screenshot renders the window to a PNG after an optional profile run (used
// by scripts/screenshot.sh and to review the UI headless).

#include <QApplication>
#include <QDockWidget>
#include <QCommandLineParser>
#include <QDir>
#include <QMessageBox>
#include <QTabWidget>
#include <QTimer>
#include <cstdio>
#include <exception>

#include "canvas.h"
#include "sweep_panel.h"
#include "main_window.h"
#include "plots.h"

namespace {

/// No exception may cross the event loop: report it and carry on.
class Application : public QApplication {
 public:
  using QApplication::QApplication;
  bool notify(QObject* receiver, QEvent* event) override {
    try {
      return QApplication::notify(receiver, event);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "convscope: unexpected error: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "convscope: unexpected error\n");
    }
    return false;
  }
};

}  // namespace

int main(int argc, char** argv) {
  Application app(argc, argv);
  QApplication::setApplicationName("convscope");
  QApplication::setOrganizationName("convscope");
  QApplication::setApplicationVersion(CONVSCOPE_VERSION);
  QApplication::setWindowIcon(QIcon(":/convscope.svg"));

  QCommandLineParser cli;
  cli.setApplicationDescription("ConvScope: a workbench for efficient CNN building blocks");
  cli.addHelpOption();
  cli.addVersionOption();
  cli.addPositionalArgument("file", "graph file (.json), ONNX model (.onnx) or preset name; default mobilenet_v2");
  QCommandLineOption screenshot("screenshot", "save a PNG of the window and quit", "png");
  QCommandLineOption profile("profile", "profile the graph first (with --screenshot)");
  QCommandLineOption select("select", "select block ID (with --screenshot)", "id");
  QCommandLineOption plot("plot", "show plot tab N (0 per layer, 1 roofline, 2 latency vs MAdds)", "n");
  QCommandLineOption size("size", "window size WxH (with --screenshot)", "WxH", "1600x1000");
  QCommandLineOption noRecover("no-recover", "do not offer to recover autosaved designs");
  QCommandLineOption dock("dock", "raise the dock NAME (costDock, plotDock, compareDock, sweepDock)", "name");
  QCommandLineOption sweep("sweep", "run the sweep view's grid first and raise it (with --screenshot)");
  cli.addOptions({screenshot, profile, select, plot, size, noRecover, dock, sweep});
  cli.process(app);

  const bool shot = cli.isSet(screenshot);
  convscope::gui::MainWindowOptions options;
  options.recover = !cli.isSet(noRecover) && !shot;
  options.interactive = !shot;
  convscope::gui::MainWindow window(options);

  const QStringList args = cli.positionalArguments();
  const QString file = args.isEmpty() ? QStringLiteral("mobilenet_v2") : args.front();
  if (!window.openPath(file) && shot) return 1;
  if (shot) {
    const QStringList wh = cli.value(size).split('x');
    if (wh.size() == 2) window.resize(wh[0].toInt(), wh[1].toInt());
  }
  window.show();
  window.view()->showStart();
  if (cli.isSet(select)) window.document()->select({cli.value(select).toStdString()});
  if (cli.isSet(plot)) window.plots()->setCurrentIndex(cli.value(plot).toInt());

  if (shot) {
    const QString out = cli.value(screenshot);
    const QString dock_name = cli.isSet(sweep) ? QStringLiteral("sweepDock") : cli.value(dock);
    if (cli.isSet(sweep)) (void)window.sweepPanel()->run();
    auto grab = [&window, out, dock_name] {
      window.view()->showStart();
      if (auto* d = dock_name.isEmpty() ? nullptr : window.findChild<QDockWidget*>(dock_name)) d->raise();
      QTimer::singleShot(300, &window, [&window, out] {
        const bool ok = window.grab().save(out);
        std::fprintf(stderr, "convscope: %s %s\n", ok ? "saved" : "could not save", qPrintable(out));
        QApplication::exit(ok ? 0 : 1);
      });
    };
    if (cli.isSet(profile)) {
      QObject::connect(&window, &convscope::gui::MainWindow::profileDone, &window, [grab](bool) { grab(); });
      QTimer::singleShot(200, &window, [&window] { window.startProfile(5, 0.2); });
    } else {
      QTimer::singleShot(500, &window, grab);
    }
  }
  return QApplication::exec();
}
