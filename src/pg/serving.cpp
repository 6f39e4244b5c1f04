#include "pg/serving.hpp"
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/ids.hpp"
#include "pg/model_cache.hpp"
#include "pg/model_store.hpp"

#include "core/key_id.hpp"

namespace rec::pg {

namespace {

// Answers kept: (name, role, snapshot) -> version and revision, valid while `generation` is unchanged.
constexpr int kKeptAnswers = 32;
constexpr int kMaxKeptName = 64;   // longer names are looked up every time
constexpr int kSnapshotXids = 64;  // a snapshot with more running transactions is not compared

// The snapshot an answer was found with, as much of it as decides what it sees: the rows of other
// transactions by the running ones, this transaction's own by the command id (and its changes bump
// `generation` at each command boundary, or at rollback). `bound` false: the latest snapshot.
struct SnapshotCopy
{
    bool bound;
    bool suboverflowed;
    TransactionId xmin;
    TransactionId xmax;
    CommandId curcid;
    uint32 xcnt;
    int32 subxcnt;
    TransactionId xids[kSnapshotXids];  // xip, then subxip

    // False when the snapshot has too many running transactions to compare cheaply.
    bool take(Snapshot snap)
    {
        if (snap->subxcnt < 0 || snap->xcnt + uint32(snap->subxcnt) > uint32(kSnapshotXids))
            return false;
        bound = true;
        suboverflowed = snap->suboverflowed;
        xmin = snap->xmin;
        xmax = snap->xmax;
        curcid = snap->curcid;
        xcnt = snap->xcnt;
        subxcnt = snap->subxcnt;
        memcpy(xids, snap->xip, xcnt * sizeof(TransactionId));
        memcpy(xids + xcnt, snap->subxip, subxcnt * sizeof(TransactionId));
        return true;
    }

    bool operator==(const SnapshotCopy &o) const
    {
        if (bound != o.bound)
            return false;
        if (!bound)
            return true;
        return suboverflowed == o.suboverflowed && xmin == o.xmin && xmax == o.xmax && curcid == o.curcid &&
               xcnt == o.xcnt && subxcnt == o.subxcnt &&
               memcmp(xids, o.xids, (xcnt + subxcnt) * sizeof(TransactionId)) == 0;
    }
};

struct KeptAnswer
{
    uint64 generation;  // 0: empty
    Oid role;
    SnapshotCopy snapshot;
    bool any_model;  // the name was NULL: the most recently deployed model
    char name[kMaxKeptName];
    Deployment deployment;
    uint64 last_used;
};

KeptAnswer kept[kKeptAnswers];
uint64 generation = 1;  // bumped by every invalidation that may change an answer
uint64 use_clock = 0;
Oid deployments_relid = InvalidOid;  // rec.deployments, whose invalidation is the signal

void
forget_answers()
{
    ++generation;
}

void
relation_invalidated(Datum, Oid relid)
{
    // InvalidOid: the whole relation cache was reset (the queue overflowed).
    if (relid == InvalidOid || relid == deployments_relid)
    {
        forget_answers();
        if (relid != InvalidOid)
            deployments_relid = InvalidOid;  // dropped and created again, perhaps: looked up again
    }
}

void
roles_invalidated(Datum, int, uint32)
{
    forget_answers();  // role membership decides which models a role may read
}

Oid
deployments_table()
{
    if (!OidIsValid(deployments_relid))
    {
        const Oid schema = get_namespace_oid("rec", false);
        deployments_relid = get_relname_relid("deployments", schema);
        if (!OidIsValid(deployments_relid))
            elog(ERROR, "pg_recommend's table rec.deployments is missing. Please report a bug.");
    }
    return deployments_relid;
}

KeptAnswer *
find_kept(const char *name, Oid role, const SnapshotCopy &snapshot)
{
    for (KeptAnswer &a : kept)
        if (a.generation == generation && a.role == role && a.snapshot == snapshot &&
            (name == nullptr ? a.any_model : (!a.any_model && strcmp(a.name, name) == 0)))
            return &a;
    return nullptr;
}

void
keep_answer(const char *name, Oid role, const SnapshotCopy &snapshot, const Deployment &deployment, uint64 found_at)
{
    if (name && strlen(name) >= size_t(kMaxKeptName))
        return;
    KeptAnswer *slot = &kept[0];
    for (KeptAnswer &a : kept)
        if (a.generation != generation || a.last_used < slot->last_used)
            slot = &a;
    slot->generation = found_at;
    slot->role = role;
    slot->snapshot = snapshot;
    slot->any_model = name == nullptr;
    strlcpy(slot->name, name ? name : "", sizeof(slot->name));
    slot->deployment = deployment;
    slot->last_used = ++use_clock;
}

}  // namespace

void
setup_serving()
{
    CacheRegisterRelcacheCallback(relation_invalidated, (Datum) 0);
    CacheRegisterSyscacheCallback(AUTHMEMMEMROLE, roles_invalidated, (Datum) 0);
    CacheRegisterSyscacheCallback(AUTHOID, roles_invalidated, (Datum) 0);
}

void
serving_changed()
{
    CacheInvalidateRelcacheByRelid(deployments_table());
}

namespace {

// The deployment serving `name`, kept or found (see serving.hpp). *found_now: it was looked up by this
// call with the latest snapshot (READ COMMITTED), which is then left pushed as the active snapshot,
// so that the caller loads the versions found with the same snapshot (they are visible to it even if
// they committed after the command's snapshot, and still there if a later commit dropped them); the
// caller pops it (an error in between leaves it to the transaction's abort, which pops it).
Deployment
serving_deployment(const char *name, bool *found_now)
{
    *found_now = false;
    const Oid role = GetUserId();
    // Changes committed by other sessions since this transaction's last look; this transaction's
    // own changes arrive at each command boundary.
    AcceptInvalidationMessages();
    deployments_table();
    const uint64 found_at = generation;

    // REPEATABLE READ and SERIALIZABLE ask with the transaction's snapshot, so the transaction keeps
    // the version it first saw; so does a parallel query (rec.predict over a parallel scan), where
    // no new snapshot may be taken.
    if (IsolationUsesXactSnapshot() || IsInParallelMode())
    {
        SnapshotCopy snapshot;
        const bool comparable = snapshot.take(GetActiveSnapshot());
        if (KeptAnswer *answer = comparable ? find_kept(name, role, snapshot) : nullptr)
        {
            answer->last_used = ++use_clock;
            return answer->deployment;
        }
        const Deployment found = find_deployment(name);
        if (comparable && generation == found_at)
            keep_answer(name, role, snapshot, found, found_at);
        return found;
    }

    const SnapshotCopy latest{};
    if (KeptAnswer *answer = find_kept(name, role, latest))
    {
        answer->last_used = ++use_clock;
        return answer->deployment;
    }
    // A snapshot taken now, after the generation was read: a commit it misses sends its invalidation
    // later, which bumps the generation this answer is kept for. The model is loaded with it too (by
    // the caller, in the same command), so that the version found is visible to the load.
    PushActiveSnapshot(GetLatestSnapshot());
    const Deployment found = find_deployment(name);
    if (generation == found_at)
        keep_answer(name, role, latest, found, found_at);
    *found_now = true;
    return found;
}

}  // namespace

const ServedModel *
serving_model(const char *name)
{
    bool found_now;
    const Deployment d = serving_deployment(name, &found_now);
    const ServedModel *m = cached_model(d.main.model_id, d.main.revision);
    if (found_now)
        PopActiveSnapshot();
    return m;
}

ServedVersion
serving_model_for_user(const char *name, Datum user_id, Oid type)
{
    bool found_now;
    const Deployment d = serving_deployment(name, &found_now);
    const ServedModel *main = cached_model(d.main.model_id, d.main.revision);
    ServedVersion served{main, d.main.version, false};
    strlcpy(served.name, d.name, sizeof(served.name));
    if (d.challenger.model_id != 0)
    {
        // Where the user falls: their id as the main version reads it (an integer id itself, a text or
        // uuid id's hash), whether or not either version knows them.
        const char *key;
        const int64 id = model_id_of(main, false, user_id, type, &key);
        if (rec::core::traffic_position(id, d.name_hash) < d.traffic)
        {
            served.model = cached_model(d.challenger.model_id, d.challenger.revision);
            served.version = d.challenger.version;
            served.challenger = true;
        }
    }
    if (found_now)
        PopActiveSnapshot();
    return served;
}
}  // namespace rec::pg

// rec.served_version(model, user_id) RETURNS integer: the version serving this user now.
PGREC_FUNCTION(rec_served_version)
{
    if (PG_ARGISNULL(1))
        PG_RETURN_NULL();
    const rec::pg::ServedVersion served =
        rec::pg::serving_model_for_user(rec::pg::text_arg(fcinfo, 0), PG_GETARG_DATUM(1), rec::pg::arg_type(fcinfo, 1));
    PG_RETURN_INT32(served.version);
}
