#pragma once
/// Engine strings (UTF-8 std::string) as Qt strings: one definition for every view.
#include <QString>

#include <string>

namespace convscope::gui {

inline QString qs(const std::string& s) { return QString::fromStdString(s); }

}  // namespace convscope::gui
