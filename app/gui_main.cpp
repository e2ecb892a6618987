// quantbench: the desktop workbench. All logic lives in qb_ui (ui/app_main.cpp).
#include "core/util/memory.h"
#include "core/util/threads.h"
#include "ui/app_main.h"

int main(int argc, char** argv)
{
    qb::ensureOmpWaitPolicy(argv); // may re-exec: before anything else (core/util/threads.h)
    qb::configureAllocator(); // before any allocation worth keeping (core/util/memory.h)
    return qb::ui::runApp(argc, argv);
}
