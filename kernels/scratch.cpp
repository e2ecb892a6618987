// ScratchBuffer (common.h): compiled for the baseline ISA on purpose, see there.
#include "kernels/common.h"

#include <cstdlib>
#include <new>

namespace qb::kernels {

ScratchBuffer::~ScratchBuffer() { std::free(p_); }

float* ScratchBuffer::floats(size_t n)
{
    if (n > cap_ || !p_) {
        const size_t want = n < 16 ? 16 : n;
        const size_t bytes = (want * sizeof(float) + 63) / 64 * 64;
        void* q = std::aligned_alloc(64, bytes);
        if (!q) throw std::bad_alloc();
        std::free(p_);
        p_ = q;
        cap_ = bytes / sizeof(float);
    }
    return static_cast<float*>(p_);
}

} // namespace qb::kernels
