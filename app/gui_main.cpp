// quantbench: the desktop workbench. All logic lives in qb_ui (ui/app_main.cpp).
#include "ui/app_main.h"

int main(int argc, char** argv) { return qb::ui::runApp(argc, argv); }
