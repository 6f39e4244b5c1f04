// How the core runs work in parallel inside a host process (a PostgreSQL backend) that must keep
// control: work is cut into chunks of a few tens of milliseconds, run by OpenMP threads that have every
// signal blocked, and between chunks the host's poll() runs on the calling thread. poll() may throw to
// abandon the work (a cancelled query); the core is exception-safe, so nothing leaks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <vector>

namespace rec::core {

// Implemented by the host. Both are only ever called on the thread that called into the core.
class HostHooks
{
public:
    virtual ~HostHooks() = default;
    // Between chunks of parallel work: check for cancellation; throw to stop.
    virtual void poll() = 0;
};

// A HostHooks that never stops anything, for tests and command-line tools.
class NoHostHooks : public HostHooks
{
public:
    void poll() override {}
};

// Number of threads to use: `requested` if positive, else every processor.
int resolve_threads(int requested);

// Splits rows [0, costs.size()) into consecutive chunks whose summed cost is about `chunk_cost`
// (at least one row each). Returns the chunk boundaries, starting with 0 and ending with costs.size().
std::vector<size_t> chunk_boundaries(const std::vector<double> &costs, double chunk_cost);

// Boundaries of equal chunks of `chunk_rows` rows.
std::vector<size_t> even_boundaries(size_t rows, size_t chunk_rows);

// Runs body(row, thread_index) for every row, in parallel over `threads` threads, one chunk at a time
// with hooks.poll() between chunks. Signals are blocked while threads run, so they reach only the
// calling thread once the chunk ends. An exception thrown by body is rethrown here after the chunk.
void parallel_rows(const std::vector<size_t> &boundaries, int threads, HostHooks &hooks,
                   const std::function<void(size_t row, int thread)> &body);

}  // namespace rec::core
