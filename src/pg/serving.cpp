#include "pg/serving.hpp"
#include "pg/model_cache.hpp"
#include "pg/model_store.hpp"

namespace rec::pg {

namespace {

// Answers kept: (name, role) -> version and revision, valid while `generation` is unchanged.
constexpr int kKeptAnswers = 32;
constexpr int kMaxKeptName = 64;  // longer names are looked up every time

struct KeptAnswer
{
    uint64 generation;  // 0: empty
    Oid role;
    bool any_model;  // the name was NULL: the most recently deployed model
    char name[kMaxKeptName];
    ModelRef ref;
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
find_kept(const char *name, Oid role)
{
    for (KeptAnswer &a : kept)
        if (a.generation == generation && a.role == role &&
            (name == nullptr ? a.any_model : (!a.any_model && strcmp(a.name, name) == 0)))
            return &a;
    return nullptr;
}

void
keep_answer(const char *name, Oid role, const ModelRef &ref, uint64 found_at)
{
    if (name && strlen(name) >= size_t(kMaxKeptName))
        return;
    KeptAnswer *slot = &kept[0];
    for (KeptAnswer &a : kept)
        if (a.generation != generation || a.last_used < slot->last_used)
            slot = &a;
    slot->generation = found_at;
    slot->role = role;
    slot->any_model = name == nullptr;
    strlcpy(slot->name, name ? name : "", sizeof(slot->name));
    slot->ref = ref;
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

const ServedModel *
serving_model(const char *name)
{
    const Oid role = GetUserId();
    if (IsolationUsesXactSnapshot())
    {
        const ModelRef ref = find_model(name);
        return cached_model(ref.model_id, ref.revision);
    }
    // Changes committed by other sessions since this transaction's last look.
    AcceptInvalidationMessages();
    deployments_table();
    if (KeptAnswer *answer = find_kept(name, role))
    {
        answer->last_used = ++use_clock;
        return cached_model(answer->ref.model_id, answer->ref.revision);
    }
    // A snapshot taken now, after the generation was read: a commit it misses sends its invalidation
    // later, which bumps the generation this answer is kept for. The model is loaded with it too, so
    // that the version found is visible to the load.
    const uint64 found_at = generation;
    PushActiveSnapshot(GetLatestSnapshot());
    const ModelRef ref = find_model(name);
    const ServedModel *m = cached_model(ref.model_id, ref.revision);
    PopActiveSnapshot();
    if (generation == found_at)
        keep_answer(name, role, ref, found_at);
    return m;
}

}  // namespace rec::pg
