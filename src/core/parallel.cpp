#include "core/parallel.hpp"

#include <signal.h>
#include <pthread.h>

#include <algorithm>
#include <mutex>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

// Blocks every signal on the calling thread for its lifetime. OpenMP worker threads are created by the
// first parallel region (and again when the thread count grows) and inherit the creator's mask, so
// they never run a host signal handler; signals stay pending until the calling thread unblocks them.
class SignalsBlocked
{
public:
    SignalsBlocked()
    {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &saved_);
    }
    ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
    SignalsBlocked(const SignalsBlocked &) = delete;
    SignalsBlocked &operator=(const SignalsBlocked &) = delete;

private:
    sigset_t saved_;
};

}  // namespace

int
resolve_threads(int requested)
{
    if (requested > 0)
        return requested;
#ifdef _OPENMP
    // Asked once: omp_get_num_procs() is a system call, and scoring asks on every query.
    static const int processors = std::max(1, omp_get_num_procs());
    return processors;
#else
    return 1;
#endif
}

std::vector<size_t>
chunk_boundaries(const std::vector<double> &costs, double chunk_cost)
{
    std::vector<size_t> bounds{0};
    double acc = 0;
    for (size_t row = 0; row < costs.size(); ++row)
    {
        acc += costs[row];
        if (acc >= chunk_cost)
        {
            bounds.push_back(row + 1);
            acc = 0;
        }
    }
    if (bounds.back() != costs.size())
        bounds.push_back(costs.size());
    return bounds;
}

std::vector<size_t>
even_boundaries(size_t rows, size_t chunk_rows)
{
    std::vector<size_t> bounds{0};
    chunk_rows = std::max<size_t>(chunk_rows, 1);
    for (size_t row = chunk_rows; row < rows; row += chunk_rows)
        bounds.push_back(row);
    if (bounds.back() != rows)
        bounds.push_back(rows);
    return bounds;
}

void
parallel_rows(const std::vector<size_t> &boundaries, int threads, HostHooks &hooks,
              const std::function<void(size_t row, int thread)> &body)
{
    threads = std::max(1, threads);
    for (size_t chunk = 0; chunk + 1 < boundaries.size(); ++chunk)
    {
        hooks.poll();
        const long begin = long(boundaries[chunk]);
        const long end = long(boundaries[chunk + 1]);
        std::exception_ptr failure;
        std::mutex failure_mutex;
        {
            SignalsBlocked blocked;
            // An exception must not leave an OpenMP region: catch it per row, keep the first.
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
            for (long row = begin; row < end; ++row)
            {
                int thread = 0;
#ifdef _OPENMP
                thread = omp_get_thread_num();
#endif
                try
                {
                    body(size_t(row), thread);
                }
                catch (...)
                {
                    std::lock_guard<std::mutex> lock(failure_mutex);
                    if (!failure)
                        failure = std::current_exception();
                }
            }
        }
        if (failure)
            std::rethrow_exception(failure);
    }
    hooks.poll();
}

}  // namespace rec::core
