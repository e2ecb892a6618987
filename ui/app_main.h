#pragma once
// The quantbench executable's main, kept in qb_ui so tests can drive the same options.
//   quantbench [--sweep FILE] [--open RESULTS…] [--run] [--screenshot PNG] [--quit-when-done] [--demo]
namespace qb::ui {

// True when Qt can open a window: a display (X11/Wayland) or an explicit QT_QPA_PLATFORM.
bool haveDisplay();
int runApp(int argc, char** argv);

} // namespace qb::ui
