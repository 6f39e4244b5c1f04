// The worker threads of pg_recommend's parallel work (training, evaluation, recommend_all, and scoring a
// large catalogue), shared by every session.
//
// rec.threads says how many threads one run would like; rec.max_worker_threads caps the worker threads
// (those beyond each session's own) of all runs together, as max_parallel_workers caps the workers of
// parallel queries. A run takes its fair share of what is free when it starts and keeps it until it
// ends; one that finds none free runs on its session's thread alone, so no run ever waits for another
// (waiting here would be a deadlock the lock manager cannot see). The cap needs shared_preload_libraries: without it
// each run uses rec.threads.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>

namespace rec::pg {

void setup_worker_threads();  // from _PG_init: the GUC and the shared counters

// Worker threads held while the object lives. Construct it only in C++ code whose PostgreSQL calls go
// through pg_call (so the destructor runs on error); a FATAL exit gives the workers back too. A lease
// taken while the session holds one shares the outer one's threads.
class WorkerThreads
{
public:
    // Asks for rec.threads. `quiet`: no NOTICE when fewer are free (scoring: thousands of calls a second).
    explicit WorkerThreads(bool quiet = false);
    ~WorkerThreads();
    WorkerThreads(const WorkerThreads &) = delete;
    WorkerThreads &operator=(const WorkerThreads &) = delete;
    int threads() const { return threads_; }  // the session's thread plus its workers

private:
    int threads_;
    bool outermost_;
};

// Threads for scoring one query against a catalogue: a quiet lease of rec.threads, taken only for a
// catalogue that top_n splits over threads (a small one costs no shared-memory write and runs on the
// session's thread).
class ScoringThreads
{
public:
    ScoringThreads(size_t items, int k);
    // A lease where `parallel` (the scoring splits over threads), else none.
    explicit ScoringThreads(bool parallel);
    int threads() const { return lease_ ? lease_->threads() : 1; }

private:
    std::optional<WorkerThreads> lease_;
};

// One running lease, as rec.worker_threads() shows it.
struct WorkerLease
{
    int32_t pid;
    int threads;  // in use: 1 + workers
    int wanted;   // rec.threads of the run
};

// The leases held now, in every session; returns how many were written (at most max).
int worker_leases(WorkerLease *out, int max);

}  // namespace rec::pg
