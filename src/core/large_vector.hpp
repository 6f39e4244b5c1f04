// Vectors for the arrays that grow with the data (compressed rows, factors, id maps): backed by huge
// pages where the kernel offers them (transparent huge pages in "madvise" mode, Debian's default).
// Their accesses are scattered (a row's other-side vectors, counting sorts, hash slots), so with 4 kB
// pages most of them miss the TLB: with 2 MB pages, indexing synth10m took 0.97 s instead of 1.40 s
// and an explicit ALS iteration 0.46 s instead of 0.62 s (docs/architecture.md).
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

#include <sys/mman.h>

namespace rec::core {

template <typename T>
struct HugePageAllocator
{
    using value_type = T;

    HugePageAllocator() = default;
    template <typename U>
    HugePageAllocator(const HugePageAllocator<U> &)
    {}

    T *allocate(size_t count)
    {
        if (count > size_t(-1) / sizeof(T))
            throw std::bad_alloc();
        const size_t bytes = count * sizeof(T);
        if (bytes < kHugePage * 2)
        {
            void *p = std::malloc(bytes ? bytes : 1);
            if (!p)
                throw std::bad_alloc();
            return static_cast<T *>(p);
        }
        // Whole huge pages, asked for before the first touch so that the faults map 2 MB at a time.
        void *p = std::aligned_alloc(kHugePage, (bytes + kHugePage - 1) / kHugePage * kHugePage);
        if (!p)
            throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
        (void) madvise(p, (bytes + kHugePage - 1) / kHugePage * kHugePage, MADV_HUGEPAGE);
#endif
        return static_cast<T *>(p);
    }
    void deallocate(T *p, size_t) noexcept
    {
        std::free(p);
    }

    template <typename U>
    bool operator==(const HugePageAllocator<U> &) const
    {
        return true;
    }
    template <typename U>
    bool operator!=(const HugePageAllocator<U> &) const
    {
        return false;
    }

private:
    static constexpr size_t kHugePage = size_t(2) << 20;
};

template <typename T>
using LargeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace rec::core
