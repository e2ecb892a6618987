#pragma once
// One error type for the whole core: library code throws qb::Error with a message that names
// the file (or input) and what is wrong with it; the CLI prints it and exits non-zero, the GUI
// shows it and stays usable. Never exit() or abort() inside the library.
#include <stdexcept>
#include <string>

namespace qb {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "path: message" in one place, so every error reads the same.
[[noreturn]] void fail(const std::string& where, const std::string& what);

// Thrown when a cancel flag is observed; callers treat it as "stopped", not as a failure.
class Cancelled : public Error {
public:
    Cancelled() : Error("cancelled") {}
};

// An allocation that did not fit, whoever threw it: std::bad_alloc, libtorch's CPU allocator
// ("DefaultCPUAllocator: can't allocate memory") or its CUDA caching allocator ("CUDA out of memory").
bool isOutOfMemory(const std::exception& e);

// A one-paragraph message for an exception that reached a boundary (a sweep's failed record, the
// CLI, the GUI): libtorch's errors lose their C++ backtrace ("frame #0: ..." lines) and an
// out-of-memory error says so first.
std::string describeException(const std::exception& e);

} // namespace qb
