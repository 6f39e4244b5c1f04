#include "pg/worker_threads.hpp"
#include "pg/postgres_headers.hpp"
#include "pg/bridge.hpp"
#include "pg/settings.hpp"

#include "core/parallel.hpp"
#include "core/topn.hpp"

#include <algorithm>

namespace rec::pg {

namespace {

// What a session shows of its lease: written only by that session, read by rec.worker_threads().
struct LeaseSlot
{
    volatile int32 pid;  // 0: no lease
    volatile int32 threads;
    volatile int32 wanted;
};

struct WorkerPool
{
    pg_atomic_uint32 workers_in_use;  // summed over every session's lease
    pg_atomic_uint32 runs;            // leases held now, each session's counted once
    int slot_count;
    LeaseSlot slots[FLEXIBLE_ARRAY_MEMBER];  // one per backend, by REC_MY_BACKEND_INDEX()
};

WorkerPool *pool = nullptr;  // null unless loaded by shared_preload_libraries
int max_worker_threads_setting = -1;
shmem_request_hook_type previous_shmem_request = nullptr;
shmem_startup_hook_type previous_shmem_startup = nullptr;

// This session's lease.
int lease_depth = 0;
uint32 held_workers = 0;
bool counted_run = false;  // this session's lease is counted in pool->runs
int held_threads = 1;
bool exit_callback_registered = false;

Size
pool_size()
{
    return add_size(offsetof(WorkerPool, slots), mul_size(sizeof(LeaseSlot), Size(MaxBackends)));
}

void
request_shared_memory()
{
    if (previous_shmem_request)
        previous_shmem_request();
    RequestAddinShmemSpace(MAXALIGN(pool_size()));
}

void
start_shared_memory()
{
    if (previous_shmem_startup)
        previous_shmem_startup();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found;
    pool = (WorkerPool *) ShmemInitStruct("pg_recommend worker threads", pool_size(), &found);
    if (!found)
    {
        memset(pool, 0, pool_size());
        pg_atomic_init_u32(&pool->workers_in_use, 0);
        pg_atomic_init_u32(&pool->runs, 0);
        pool->slot_count = MaxBackends;
    }
    LWLockRelease(AddinShmemInitLock);
}

LeaseSlot *
my_slot()
{
    const int index = REC_MY_BACKEND_INDEX();
    return (index >= 0 && index < pool->slot_count) ? &pool->slots[index] : nullptr;
}

void
release_workers()
{
    if (pool && held_workers > 0)
        pg_atomic_sub_fetch_u32(&pool->workers_in_use, held_workers);
    if (pool && counted_run)
        pg_atomic_sub_fetch_u32(&pool->runs, 1);
    counted_run = false;
    if (pool)
        if (LeaseSlot *slot = my_slot())
            slot->pid = 0;
    held_workers = 0;
    held_threads = 1;
    lease_depth = 0;
}

// A FATAL error (pg_terminate_backend) exits without unwinding C++ frames: give the workers back here.
void
release_workers_at_exit(int, Datum)
{
    release_workers();
}

// rec.max_worker_threads resolved: -1 means one fewer than the cores, so that one run of rec.threads = 0
// can use every core.
uint32
worker_cap()
{
    if (max_worker_threads_setting >= 0)
        return uint32(max_worker_threads_setting);
    return uint32(std::max(0, rec::core::resolve_threads(0) - 1));
}

// Takes up to `wanted` workers from the pool; never more than are free, never waits.
uint32
take_workers(uint32 wanted)
{
    const uint32 cap = worker_cap();
    uint32 in_use = pg_atomic_read_u32(&pool->workers_in_use);
    for (;;)
    {
        const uint32 free = in_use >= cap ? 0 : cap - in_use;
        const uint32 take = std::min(wanted, free);
        if (take == 0)
            return 0;
        // On failure in_use is reloaded with the current count and the share recomputed.
        if (pg_atomic_compare_exchange_u32(&pool->workers_in_use, &in_use, in_use + take))
            return take;
    }
}

}  // namespace

void
setup_worker_threads()
{
    DefineCustomIntVariable(
        "rec.max_worker_threads", "Most worker threads pg_recommend's parallel work uses at once, over every session.",
        "Counts the threads beyond each session's own, over every session, as max_parallel_workers does for "
        "parallel query. -1 (the default) means one fewer than the cores of the machine.",
        &max_worker_threads_setting, -1, -1, 1024, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    if (!process_shared_preload_libraries_in_progress)
        return;
    previous_shmem_request = shmem_request_hook;
    shmem_request_hook = request_shared_memory;
    previous_shmem_startup = shmem_startup_hook;
    shmem_startup_hook = start_shared_memory;
}

WorkerThreads::WorkerThreads(bool quiet) : threads_(training_threads()), outermost_(lease_depth == 0)
{
    ++lease_depth;
    if (!outermost_)
    {
        threads_ = held_threads;
        return;
    }
    if (pool)
    {
        if (!exit_callback_registered)
        {
            before_shmem_exit(release_workers_at_exit, 0);
            exit_callback_registered = true;
        }
        // A fair share first: with k other runs under way, (cap + 1) / (k + 1) threads, so that runs
        // which start while others run (steady serving load) do not oversubscribe the cores.
        const uint32 others = pg_atomic_fetch_add_u32(&pool->runs, 1);
        counted_run = true;
        const int wanted = threads_;
        const int share = int(Max(uint32(1), (worker_cap() + 1) / (others + 1)));
        held_workers = take_workers(uint32(Min(wanted, share) - 1));
        threads_ = 1 + int(held_workers);
        if (LeaseSlot *slot = my_slot())
        {
            slot->threads = threads_;
            slot->wanted = wanted;
            pg_write_barrier();
            slot->pid = MyProcPid;
        }
        // Said once per statement: recommend_all takes a lease per block of users.
        static TimestampTz noticed_statement = 0;
        if (!quiet && threads_ < wanted && noticed_statement != GetCurrentStatementStartTimestamp())
            try
            {
                noticed_statement = GetCurrentStatementStartTimestamp();
                pg_call([&] {
                    ereport(NOTICE, (errmsg("running on %d of the %d threads rec.threads asks for: %u other runs "
                                            "share the %u worker threads of rec.max_worker_threads",
                                            threads_, wanted, others, worker_cap())));
                });
            }
            catch (...)
            {
                release_workers();  // no destructor runs for a constructor that throws
                throw;
            }
    }
    held_threads = threads_;
}

WorkerThreads::~WorkerThreads()
{
    if (outermost_)
        release_workers();
    else
        --lease_depth;
}

ScoringThreads::ScoringThreads(size_t items, int k) : ScoringThreads(rec::core::top_n_runs_in_parallel(items, k)) {}

ScoringThreads::ScoringThreads(bool parallel)
{
    if (parallel && training_threads() > 1)
        lease_.emplace(true);
}

int
worker_leases(WorkerLease *out, int max)
{
    int count = 0;
    if (!pool)
        return 0;
    for (int s = 0; s < pool->slot_count && count < max; ++s)
    {
        const LeaseSlot &slot = pool->slots[s];
        const int32 pid = slot.pid;
        if (pid == 0)
            continue;
        pg_read_barrier();
        out[count++] = WorkerLease{pid, slot.threads, slot.wanted};
    }
    return count;
}

}  // namespace rec::pg

// rec.worker_threads() RETURNS TABLE (pid integer, threads integer, threads_wanted integer)
PGREC_FUNCTION(rec_worker_threads)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    const int max = MaxBackends;
    rec::pg::WorkerLease *leases = (rec::pg::WorkerLease *) palloc(sizeof(rec::pg::WorkerLease) * size_t(Max(max, 1)));
    const int count = rec::pg::worker_leases(leases, max);
    for (int r = 0; r < count; ++r)
    {
        Datum row[3] = {Int32GetDatum(leases[r].pid), Int32GetDatum(leases[r].threads),
                        Int32GetDatum(leases[r].wanted)};
        bool nulls[3] = {false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
    }
    PG_RETURN_NULL();
}
