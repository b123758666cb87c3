#pragma once
/// Engine strings (UTF-8 std::string) as Qt strings: one definition for every view.
#include <QString>

#include <string>

namespace convscope::gui {

inline QString qs(const std::string& s) { return QString::fromStdString(s); }

/// A latency for people: "812.4 µs" below a millisecond, "4.78 ms" above. Every
/// panel (status bar, plot titles, tooltips) writes a total this one way, so one
/// figure reads the same wherever it appears.
inline QString latency_text(double ns) {
  if (ns < 1e6) {
    const double us = ns / 1e3;
    return QString::number(us, 'f', us < 10 ? 2 : 1) + QStringLiteral(" µs");
  }
  return QString::number(ns / 1e6, 'f', ns < 1e7 ? 2 : 1) + QStringLiteral(" ms");
}

}  // namespace convscope::gui
