#include "pg/model_cache.hpp"
#include "pg/bridge.hpp"

#include <algorithm>

namespace rec::pg {

namespace {

constexpr int kSharedSlots = 64;  // models in the shared cache at once
constexpr int kLocalModels = 4;   // models a backend keeps in its own memory

// ---- The shared cache: a control block in the main shared memory, images in a DSA area. ----

// What names a model version server-wide: model_ids come from a sequence of one database's extension,
// so the database and the extension's catalog table (new if the extension is dropped and created
// again, restarting the sequence) are part of the key.
struct ModelKey
{
    Oid database;
    Oid catalog;  // rec.model_versions
    int64 model_id;
    int32 revision;  // refreshes change a version's rows in place and bump it

    bool same_version(const ModelKey &other) const
    {
        return database == other.database && catalog == other.catalog && model_id == other.model_id;
    }
    bool operator==(const ModelKey &other) const { return same_version(other) && revision == other.revision; }
};

ModelKey
key_of(int64 model_id, int32 revision = 0)
{
    const Oid schema = get_namespace_oid("rec", false);
    return ModelKey{MyDatabaseId, get_relname_relid("model_versions", schema), model_id, revision};
}

struct SharedSlot
{
    ModelKey key;  // model_id 0: free
    dsa_pointer image;
    uint64 bytes;
    uint64 last_used;
    uint64 hits;
    int32 pins;    // transactions using the image now
    bool retired;  // dropped while pinned: never found again, freed by the last unpin
    int loader;    // pid of the backend loading the image into this reserved slot; 0 once it is there
    uint64 loads;  // times the model was read from the tables for this slot (1 unless a race lost)
};

struct SharedCache
{
    int dsa_tranche;
    dsa_handle area;  // DSM_HANDLE_INVALID until a backend first needs it
    uint64 clock;
    uint64 bytes_used;
    SharedSlot slots[kSharedSlots];
};

SharedCache *shared = nullptr;  // null unless loaded by shared_preload_libraries
LWLock *shared_lock = nullptr;  // guards *shared
dsa_area *area = nullptr;       // this backend's mapping of the area
int cache_size_mb = 1024;
shmem_request_hook_type previous_shmem_request = nullptr;
shmem_startup_hook_type previous_shmem_startup = nullptr;

// Shared entries this backend's transaction has pinned, with its view of each. Nodes live in
// TopTransactionContext; the list is emptied (pins released) when the transaction ends.
struct PinnedModel
{
    PinnedModel *next;
    int slot;
    ModelKey key;
    ServedModel view;
};
PinnedModel *pinned = nullptr;

// The slot this backend has reserved to load a model into (-1: none). Others wait for it rather than
// load the same model too; an error (or a caught error in a subtransaction) gives it up.
int reserved_slot = -1;

// Models kept in this backend's memory: without the shared cache, or for a model it cannot hold.
struct LocalModel
{
    ModelKey key;
    const char *image;
    ServedModel view;
    MemoryContext context;  // holds the image; null when the entry is free
    uint64 last_used;
};
LocalModel local_models[kLocalModels];
uint64 local_clock = 0;

void
request_shared_memory()
{
    if (previous_shmem_request)
        previous_shmem_request();
    RequestAddinShmemSpace(MAXALIGN(sizeof(SharedCache)));
    RequestNamedLWLockTranche("pg_recommend", 1);
}

void
start_shared_memory()
{
    if (previous_shmem_startup)
        previous_shmem_startup();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found;
    shared = (SharedCache *) ShmemInitStruct("pg_recommend model cache", sizeof(SharedCache), &found);
    if (!found)
    {
        memset(shared, 0, sizeof(SharedCache));
        shared->dsa_tranche = LWLockNewTrancheId();
        shared->area = DSM_HANDLE_INVALID;
    }
    LWLockRelease(AddinShmemInitLock);
    shared_lock = &(GetNamedLWLockTranche("pg_recommend"))->lock;
}

uint64
cache_limit_bytes()
{
    return uint64(cache_size_mb) * 1024 * 1024;
}

// Maps the shared area into this backend, creating it on first use. Call with shared_lock held
// exclusively; the mapping lasts for the session.
void
attach_area_locked()
{
    if (area)
        return;
    LWLockRegisterTranche(shared->dsa_tranche, "pg_recommend_cache");
    MemoryContext outer = MemoryContextSwitchTo(TopMemoryContext);
    if (shared->area == DSM_HANDLE_INVALID)
    {
        dsa_area *created = dsa_create(shared->dsa_tranche);
        dsa_pin(created);  // the area outlives every backend
        dsa_pin_mapping(created);
        shared->area = dsa_get_handle(created);
        area = created;
    }
    else
    {
        area = dsa_attach(shared->area);
        dsa_pin_mapping(area);
    }
    MemoryContextSwitchTo(outer);
}

void
free_slot_locked(SharedSlot &slot)
{
    dsa_free(area, slot.image);
    shared->bytes_used -= slot.bytes;
    slot = SharedSlot{};
}

// Gives up this backend's reservation, if it still has one: the waiting backends then load it themselves.
void
give_up_reservation()
{
    if (reserved_slot < 0)
        return;
    LWLockAcquire(shared_lock, LW_EXCLUSIVE);
    SharedSlot &slot = shared->slots[reserved_slot];
    if (slot.loader == MyProcPid)
        slot = SharedSlot{};
    LWLockRelease(shared_lock);
    reserved_slot = -1;
}

void
give_up_reservation_on_subabort(SubXactEvent event, SubTransactionId, SubTransactionId, void *)
{
    if (event == SUBXACT_EVENT_ABORT_SUB)
        give_up_reservation();
}

// Gives back one pin of `p`'s slot (shared lock held); true if it was the last of a retired slot.
bool
unpin_locked(const PinnedModel *p)
{
    SharedSlot &slot = shared->slots[p->slot];
    return __atomic_sub_fetch(&slot.pins, 1, __ATOMIC_RELAXED) == 0 && slot.retired;
}

// Frees the retired slots no one pins any more (takes the lock exclusively).
void
free_unpinned_retired()
{
    LWLockAcquire(shared_lock, LW_EXCLUSIVE);
    for (SharedSlot &slot : shared->slots)
        if (slot.key.model_id != 0 && slot.pins == 0 && slot.retired)
            free_slot_locked(slot);
    LWLockRelease(shared_lock);
}

// Releases the transaction's pins; an unpinned retired slot is freed.
void
release_pins(XactEvent event, void *)
{
    if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PREPARE &&
        event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
        return;
    running_sql_functions = 0;  // whatever errors skipped (bridge.hpp)
    give_up_reservation();
    if (pinned == nullptr)
        return;
    // Unpinned under the shared lock (no slot changes hands meanwhile: that takes the lock exclusively).
    bool retired_unpinned = false;
    LWLockAcquire(shared_lock, LW_SHARED);
    for (PinnedModel *p = pinned; p; p = p->next)
        retired_unpinned |= unpin_locked(p);
    LWLockRelease(shared_lock);
    if (retired_unpinned)
        free_unpinned_retired();
    pinned = nullptr;  // the nodes go with TopTransactionContext
}

// This transaction's pins of earlier revisions of `key`'s version, given back once it pins `key`:
// only when the function asking is the only one of ours running, so that no running call can still
// read them. A transaction that refreshes a model many times (a loop, a trigger per statement) then
// holds one revision at a time, and a retired one's memory is reused by the next, instead of holding
// every revision until it ends.
void
release_superseded_pins(const ModelKey &key)
{
    if (running_sql_functions != 1)
        return;
    bool retired_unpinned = false;
    LWLockAcquire(shared_lock, LW_SHARED);
    for (PinnedModel **link = &pinned; *link;)
        if ((*link)->key.same_version(key) && (*link)->key.revision < key.revision)
        {
            retired_unpinned |= unpin_locked(*link);
            *link = (*link)->next;  // the node stays in TopTransactionContext until the end
        }
        else
            link = &(*link)->next;
    LWLockRelease(shared_lock);
    if (retired_unpinned)
        free_unpinned_retired();
}

// Pins slot `s` (lock held) for the rest of the transaction; `node` was allocated beforehand so that
// nothing can fail between the pin and its record.
void
pin_locked(int s, PinnedModel *node)
{
    // Atomic: the lock may be held shared (the fast path of claim_shared) by several backends at once.
    SharedSlot &slot = shared->slots[s];
    __atomic_add_fetch(&slot.pins, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&slot.hits, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&slot.last_used, __atomic_add_fetch(&shared->clock, 1, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
    node->slot = s;
    node->key = slot.key;
    node->next = pinned;
    pinned = node;
}

int
find_slot_locked(const ModelKey &key)
{
    for (int s = 0; s < kSharedSlots; ++s)
        if (shared->slots[s].key == key && !shared->slots[s].retired)
            return s;
    return -1;
}

// Images this backend has already mapped page by page (by slot and the image's address there).
dsa_pointer populated[kSharedSlots];

// A backend that first reads an image maps its pages all at once (see map_pages).
void
populate_once(int slot, const char *image, uint64 bytes)
{
    if (populated[slot] == shared->slots[slot].image)
        return;
    populated[slot] = shared->slots[slot].image;
    map_pages(image, bytes, false);
}

// The view of a pinned slot's image (mapping its segment if this backend has not yet).
const ServedModel *
view_pinned(PinnedModel *node)
{
    const SharedSlot &slot = shared->slots[node->slot];
    const char *image = (const char *) dsa_get_address(area, slot.image);
    populate_once(node->slot, image, slot.bytes);
    node->view = view_model_image(image);
    return &node->view;
}

PinnedModel *
new_pin_record()
{
    return (PinnedModel *) MemoryContextAllocZero(TopTransactionContext, sizeof(PinnedModel));
}

// What claim_shared found.
enum class Claim
{
    Pinned,    // the model is there, pinned: *out is its view
    Loading,   // another backend is loading it: wait and ask again
    Reserved,  // a slot is reserved for this backend to load it into (reserved_slot)
    NoRoom,    // no slot can be reserved: load it anyway, publish if possible
};

Claim
claim_shared(const ModelKey &key, const ServedModel **out)
{
    PinnedModel *node = new_pin_record();
    // The common case, a model that is there, takes the lock shared: serving backends do not queue
    // behind each other.
    if (area)
    {
        LWLockAcquire(shared_lock, LW_SHARED);
        const int s = find_slot_locked(key);
        const bool there = s >= 0 && shared->slots[s].loader == 0;
        if (there)
            pin_locked(s, node);
        LWLockRelease(shared_lock);
        if (there)
        {
            *out = view_pinned(node);
            return Claim::Pinned;
        }
    }
    LWLockAcquire(shared_lock, LW_EXCLUSIVE);
    attach_area_locked();
    int s = find_slot_locked(key);
    Claim claim = Claim::NoRoom;
    if (s >= 0 && shared->slots[s].loader == 0)
    {
        pin_locked(s, node);
        claim = Claim::Pinned;
    }
    else if (s >= 0 && shared->slots[s].loader == MyProcPid)
    {
        reserved_slot = s;  // our own reservation (never left behind by an error: see the callbacks)
        claim = Claim::Reserved;
    }
    else if (s >= 0)
        claim = Claim::Loading;
    else
    {
        // A free slot, or one freed from the least recently used model not in use.
        for (;;)
        {
            int free_slot = -1, victim = -1;
            for (int c = 0; c < kSharedSlots; ++c)
            {
                const SharedSlot &slot = shared->slots[c];
                if (slot.key.model_id == 0)
                    free_slot = c;
                else if (slot.pins == 0 && slot.loader == 0 &&
                         (victim < 0 || slot.last_used < shared->slots[victim].last_used))
                    victim = c;
            }
            if (free_slot >= 0)
            {
                SharedSlot &slot = shared->slots[free_slot];
                slot = SharedSlot{};
                slot.key = key;
                slot.loader = MyProcPid;
                slot.image = InvalidDsaPointer;
                reserved_slot = free_slot;
                claim = Claim::Reserved;
                break;
            }
            if (victim < 0)
                break;
            free_slot_locked(shared->slots[victim]);
        }
    }
    LWLockRelease(shared_lock);
    if (claim == Claim::Pinned)
        *out = view_pinned(node);
    return claim;
}

// Copies a freshly loaded image into the shared cache, evicting the least recently used unpinned
// models to make room, and pins it. Null if it cannot be held (larger than rec.cache_size, or every
// other model is in use).
const ServedModel *
publish_shared(const ModelKey &key, const char *image, size_t bytes)
{
    if (bytes > cache_limit_bytes())
        return nullptr;
    PinnedModel *node = new_pin_record();
    LWLockAcquire(shared_lock, LW_EXCLUSIVE);
    int s = find_slot_locked(key);
    const bool ours = s >= 0 && s == reserved_slot && shared->slots[s].loader == MyProcPid;
    if (s >= 0 && !ours && shared->slots[s].loader == 0)
        ++shared->slots[s].loads;  // another backend loaded it meanwhile (no reservation): ours is a waste
    else if (s >= 0 && !ours)
        s = -1;  // someone else is still loading it: keep ours to ourselves
    else
    {
        // Room for the image within rec.cache_size: a free slot (or our reserved one) and bytes.
        for (;;)
        {
            int free_slot = ours ? s : -1, victim = -1;
            for (int c = 0; c < kSharedSlots; ++c)
            {
                const SharedSlot &slot = shared->slots[c];
                if (slot.key.model_id == 0 && free_slot < 0)
                    free_slot = c;
                else if (slot.key.model_id != 0 && slot.pins == 0 && slot.loader == 0 &&
                         (victim < 0 || slot.last_used < shared->slots[victim].last_used))
                    victim = c;
            }
            if (free_slot >= 0 && shared->bytes_used + bytes <= cache_limit_bytes())
            {
                s = free_slot;
                break;
            }
            if (victim < 0)
            {
                s = -1;
                break;
            }
            free_slot_locked(shared->slots[victim]);
        }
        // The area's own limit bounds its mapped size too, whatever the fragmentation.
        dsa_set_size_limit(area, cache_limit_bytes());
        const dsa_pointer copy =
            s >= 0 ? dsa_allocate_extended(area, bytes, DSA_ALLOC_HUGE | DSA_ALLOC_NO_OOM) : InvalidDsaPointer;
        if (DsaPointerIsValid(copy))
        {
            // Earlier revisions of this version are out of date: freed now, or by their last unpin.
            for (SharedSlot &old : shared->slots)
                if (old.key.model_id != 0 && !old.retired && old.loader == 0 && old.key.same_version(key) &&
                    old.key.revision < key.revision)
                {
                    if (old.pins == 0)
                        free_slot_locked(old);
                    else
                        old.retired = true;
                }
            char *shared_image = (char *) dsa_get_address(area, copy);
            map_pages(shared_image, bytes, true);  // fresh segments would fault in page by page
            memcpy(shared_image, image, bytes);
            SharedSlot &slot = shared->slots[s];
            slot = SharedSlot{};
            slot.key = key;
            slot.image = copy;
            slot.bytes = bytes;
            slot.loads = 1;
            shared->bytes_used += bytes;
        }
        else
            s = -1;
        if (ours)
        {
            if (s < 0)
                shared->slots[reserved_slot] = SharedSlot{};  // could not be held: the waiters load their own
            reserved_slot = -1;
        }
    }
    if (s >= 0)
        pin_locked(s, node);
    LWLockRelease(shared_lock);
    return s >= 0 ? view_pinned(node) : nullptr;
}

const ServedModel *
find_local(const ModelKey &key)
{
    for (LocalModel &entry : local_models)
        if (entry.context && entry.key == key)
        {
            entry.last_used = ++local_clock;
            return &entry.view;
        }
    return nullptr;
}

// Keeps an image (allocated in `context`) in this backend, replacing the least recently used one.
const ServedModel *
keep_local(const ModelKey &key, MemoryContext context, const char *image)
{
    // An older revision of the same version goes first, then a free entry, then the least recently used.
    LocalModel *victim = nullptr;
    for (LocalModel &entry : local_models)
        if (entry.context && entry.key.same_version(key))
            victim = &entry;
    for (LocalModel &entry : local_models)
        if (victim == nullptr && !entry.context)
            victim = &entry;
    if (victim == nullptr)
    {
        victim = &local_models[0];
        for (LocalModel &entry : local_models)
            if (entry.last_used < victim->last_used)
                victim = &entry;
    }
    if (victim->context)
        MemoryContextDelete(victim->context);
    MemoryContextSetParent(context, CacheMemoryContext);
    victim->context = context;
    victim->key = key;
    victim->image = image;
    victim->view = view_model_image(image);
    victim->last_used = ++local_clock;
    return &victim->view;
}

// The newest cached revision older than key's of the same version, as a base to patch, pinned for
// the rest of the transaction if shared; *revision receives its revision. NULL if there is none.
const char *
older_revision(const ModelKey &key, bool use_shared, int32 *revision)
{
    if (use_shared)
    {
        PinnedModel *node = new_pin_record();
        LWLockAcquire(shared_lock, LW_EXCLUSIVE);
        int found = -1;
        for (int s = 0; s < kSharedSlots; ++s)
        {
            const SharedSlot &slot = shared->slots[s];
            if (slot.key.model_id != 0 && !slot.retired && slot.loader == 0 && slot.key.same_version(key) &&
                slot.key.revision < key.revision &&
                (found < 0 || slot.key.revision > shared->slots[found].key.revision))
                found = s;
        }
        if (found >= 0)
            pin_locked(found, node);
        LWLockRelease(shared_lock);
        if (found >= 0)
        {
            *revision = node->key.revision;
            return (const char *) dsa_get_address(area, shared->slots[found].image);
        }
    }
    const LocalModel *best = nullptr;
    for (const LocalModel &entry : local_models)
        if (entry.context && entry.key.same_version(key) && entry.key.revision < key.revision &&
            (best == nullptr || entry.key.revision > best->key.revision))
            best = &entry;
    if (best == nullptr)
        return nullptr;
    *revision = best->key.revision;
    return best->image;
}

}  // namespace

void
setup_model_cache()
{
    DefineCustomIntVariable("rec.cache_size", "Shared memory for models being served.",
                            "Models are loaded into memory shared by all connections, least recently used "
                            "ones evicted above this size. Needs pg_recommend in shared_preload_libraries.",
                            &cache_size_mb, 1024, 0, INT_MAX / 2, PGC_SIGHUP, GUC_UNIT_MB, nullptr, nullptr, nullptr);
    if (!process_shared_preload_libraries_in_progress)
        return;
    previous_shmem_request = shmem_request_hook;
    shmem_request_hook = request_shared_memory;
    previous_shmem_startup = shmem_startup_hook;
    shmem_startup_hook = start_shared_memory;
}

const ServedModel *
cached_model(int64 model_id, int32 revision)
{
    static bool callback_registered = false;
    if (!callback_registered && shared)
    {
        RegisterXactCallback(release_pins, nullptr);
        RegisterSubXactCallback(give_up_reservation_on_subabort, nullptr);
        callback_registered = true;
    }
    const ModelKey key = key_of(model_id, revision);
    for (PinnedModel *p = pinned; p; p = p->next)
        if (p->key == key)
            return &p->view;  // already pinned by this transaction
    const bool use_shared = shared && cache_size_mb > 0;
    if (use_shared)
        for (;;)
        {
            const ServedModel *m = nullptr;
            const Claim claim = claim_shared(key, &m);
            if (claim == Claim::Pinned)
            {
                release_superseded_pins(key);
                return m;
            }
            if (claim != Claim::Loading)
                break;
            // Another backend is reading this model from the tables: wait for it rather than read it too.
            pg_usleep(2000);
            CHECK_FOR_INTERRUPTS();
        }
    if (const ServedModel *m = find_local(key))
        return m;

    // Loaded under the current (transaction) context so that an error mid-load frees it.
    MemoryContext context = AllocSetContextCreate(CurrentMemoryContext, "pg_recommend model", ALLOCSET_DEFAULT_SIZES);
    size_t bytes;
    // A refreshed version is patched from the copy of its previous revision when there is one.
    int32 base_revision = 0;
    const char *base = key.revision > 0 ? older_revision(key, use_shared, &base_revision) : nullptr;
    const char *image = base ? patch_model_image(key.model_id, base, base_revision, context, &bytes) : nullptr;
    if (image == nullptr)
        image = load_model_image(key.model_id, context, &bytes);
    if (use_shared)
        if (const ServedModel *m = publish_shared(key, image, bytes))
        {
            MemoryContextDelete(context);
            release_superseded_pins(key);
            return m;
        }
    return keep_local(key, context, image);
}

void
forget_cached_models(const int64 *model_ids, int count)
{
    const ModelKey here = key_of(0);
    auto dropped = [&](const ModelKey &key) {
        return key.database == here.database && key.catalog == here.catalog &&
               std::find(model_ids, model_ids + count, key.model_id) != model_ids + count;
    };
    for (LocalModel &entry : local_models)
        if (entry.context && dropped(entry.key))
        {
            MemoryContextDelete(entry.context);
            entry = LocalModel{};
        }
    if (!shared)
        return;
    LWLockAcquire(shared_lock, LW_EXCLUSIVE);
    for (SharedSlot &slot : shared->slots)
        if (slot.key.model_id != 0 && !slot.retired && slot.loader == 0 && dropped(slot.key))
        {
            if (slot.pins == 0)
            {
                attach_area_locked();
                free_slot_locked(slot);
            }
            else
                slot.retired = true;
        }
    LWLockRelease(shared_lock);
}

int
cached_models(CachedModelInfo *out, int max)
{
    // Only this database's models: another database's model_ids mean nothing here.
    const ModelKey here = key_of(0);
    auto is_here = [&](const ModelKey &key) {
        return key.database == here.database && key.catalog == here.catalog;
    };
    int count = 0;
    if (shared)
    {
        LWLockAcquire(shared_lock, LW_SHARED);
        for (const SharedSlot &slot : shared->slots)
            if (slot.key.model_id != 0 && !slot.retired && slot.loader == 0 && is_here(slot.key) && count < max)
                out[count++] = CachedModelInfo{slot.key.model_id, slot.bytes, slot.hits, slot.pins, true, slot.loads};
        LWLockRelease(shared_lock);
    }
    for (const LocalModel &entry : local_models)
        if (entry.context && is_here(entry.key) && count < max)
            out[count++] =
                CachedModelInfo{entry.key.model_id, MemoryContextMemAllocated(entry.context, true), 0, 0, false, 1};
    return count;
}

}  // namespace rec::pg

// rec.cache_status() RETURNS TABLE (model_id bigint, bytes bigint, hits bigint, pins integer, shared boolean,
//                                   loads bigint)
PGREC_FUNCTION(rec_cache_status)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    constexpr int kMax = 128;
    rec::pg::CachedModelInfo *models = (rec::pg::CachedModelInfo *) palloc(sizeof(rec::pg::CachedModelInfo) * kMax);
    const int count = rec::pg::cached_models(models, kMax);
    for (int r = 0; r < count; ++r)
    {
        Datum row[6] = {Int64GetDatum(models[r].model_id),    Int64GetDatum(int64(models[r].bytes)),
                        Int64GetDatum(int64(models[r].hits)), Int32GetDatum(models[r].pins),
                        BoolGetDatum(models[r].shared),       Int64GetDatum(int64(models[r].loads))};
        bool nulls[6] = {false, false, false, false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
    }
    PG_RETURN_NULL();
}
