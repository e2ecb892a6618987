// Cutting long names and messages at code points before they reach a widget.
#include "ui/elide.h"

namespace qb::ui {

std::string elide(const std::string& s, int maxChars)
{
    if (s.size() <= size_t(maxChars))
        return s; // fewer bytes than allowed code points: nothing to cut
    int chars = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80)
            continue; // a continuation byte belongs to the code point before it
        if (chars == maxChars)
            return s.substr(0, i) + "…";
        ++chars;
    }
    return s;
}

QString elidedQString(const std::string& s, int maxChars) { return QString::fromStdString(elide(s, maxChars)); }

QString elided(const QString& s, int maxChars)
{
    return s.size() <= maxChars ? s : s.left(maxChars) + QStringLiteral("…");
}

} // namespace qb::ui
