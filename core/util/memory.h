#pragma once
// Process memory, measured (Linux /proc and cgroup v2 files): resident and peak resident bytes, a
// resettable peak so each config of a sweep gets its own, and the memory this process may still
// use, so a model that cannot fit is refused up front with the numbers instead of dying of an
// out-of-memory kill halfway through a sweep.
#include <cstdint>
#include <string>

namespace qb {

uint64_t residentBytes();     // VmRSS, 0 when unknown
uint64_t peakResidentBytes(); // VmHWM since start or the last resetPeakResident(), 0 when unknown
// Starts a new peak (writes 5 to /proc/self/clear_refs); false when the kernel does not allow it,
// and then peakResidentBytes() stays the process-wide peak.
bool resetPeakResident();

struct MemoryBudget {
    uint64_t available = 0; // bytes this process may still allocate
    std::string source;     // what bounds it: "MemAvailable", "cgroup memory.max", "QB_MEMORY_LIMIT_MB", ...
};
// min(MemAvailable, cgroup limit - cgroup usage, QB_MEMORY_LIMIT_MB - resident) ; the environment
// variable exists for tests and for users who want a margin.
MemoryBudget memoryBudget();

// Throws qb::Error "<what> needs N GiB (<breakdown>), only M GiB available (<source>)" when
// `needed` more bytes do not fit in memoryBudget().
void requireMemory(uint64_t needed, const std::string& what, const std::string& breakdown);

std::string formatBytes(uint64_t b); // "1.23 GiB", "512 MiB", "17 KiB"

// The allocator policy, set once at start-up (glibc; a no-op elsewhere): blocks under 1 GiB come
// from the heap and freed memory stays there, so the activation tensors of every forward pass
// (a 78 MB logits chunk, MLP intermediates) reuse pages instead of being mmapped, zero-faulted and
// unmapped each time (16% of a bf16 PPL pass's time went to page faults). The cost is that freed
// memory is not returned by itself: releaseFreeMemory() does that at the points where a lot is
// freed at once (a scheme switch, a model unloaded). QB_MALLOC_DEFAULT=1 keeps glibc's defaults.
void configureAllocator();
// Returns free heap memory to the system (malloc_trim); cheap enough to call per scheme switch.
void releaseFreeMemory();

} // namespace qb
