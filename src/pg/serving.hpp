// Which model version serves a name, and that version's image: the entry point of every serving
// function (recommend, predict, explain, evaluate, refresh, recommend_all).
//
// Finding the deployed version is a query on the model tables (model_store.hpp, under row-level
// security, so a model not granted to the caller is refused). Its answer is kept per backend, for the
// model name and the current role, and reused until something that changes any answer commits:
// training, deploy, rollback, refresh, prune, drop, grant and revoke send an invalidation of
// rec.deployments through PostgreSQL's shared invalidation queue (serving_changed), role membership
// changes invalidate the role caches, and every backend that sees one forgets its answers (the
// deployment generation). The invalidation is transactional (sent at commit, undone by a rollback),
// carries its database, and is WAL-logged, so standbys replay it too. A call that finds its answer
// kept, and the model cached, runs no SQL.
//
// Under READ COMMITTED an answer is found with a fresh snapshot (so that no commit can slip between
// the snapshot and the generation it is kept for); under REPEATABLE READ and SERIALIZABLE the tables
// are asked with the transaction's snapshot, so the transaction keeps the version it first saw, and
// that answer is kept for that snapshot (its xmin, xmax, running transactions and command id) and
// the generation. Inside a parallel query (no new snapshot may be taken there) the query's snapshot is
// used in the same way.
#pragma once
#include "pg/model_store.hpp"

namespace rec::pg {

// From _PG_init: registers the invalidation callbacks.
void setup_serving();

// The deployed version of `name` (or of the most recently deployed model when NULL), loaded at its
// current revision: the main version, deployed to everyone, also while an A/B test runs. Valid until
// the end of the current transaction.
const ServedModel *serving_model(const char *name);

// The version that serves one user: during an A/B test (rec.deploy with traffic < 1) the challenger
// for the users whose traffic_position (core/key_id.hpp) is below its traffic, else the main version.
struct ServedVersion
{
    const ServedModel *model;
    int32 version;
    bool challenger;
    char name[kMaxServedName];  // the model's name ("" if longer)
};
ServedVersion serving_model_for_user(const char *name, Datum user_id, Oid type);

// Tells every session (at commit) that the deployed versions or who may read them may have changed.
void serving_changed();

}  // namespace rec::pg
