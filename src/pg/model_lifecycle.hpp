// A model's life after training: who owns it, who may serve it (grants), which version serves
// (deploy, rollback, the deployment history), and which versions are kept (prune, drop). Each action
// checks that the caller owns every version of the model (42501), raises 42704 for an unknown name,
// and is transactional: rows of rec.deployments, rec.model_grants and the model tables, written as the
// extension owner. The SQL functions rec.deploy, rec.rollback, rec.prune, rec.drop_model, rec.grant
// and rec.revoke are defined in model_lifecycle.cpp. PostgreSQL-style code.
#pragma once
#include "pg/postgres_headers.hpp"

namespace rec::pg {

// Raises 42501 unless the caller owns every version of `name` (42704 if there is none).
void require_model_owner(const char *name, const char *action);
// The same, but a name without versions (a new model) passes.
void require_model_owner_unless_new(const char *name, const char *action);

// Makes a version the one served (a row of rec.deployments).
void record_deployment(const char *name, int64 model_id, double traffic = 1);

// The deployed version's validation value for `metric`, if it has one.
bool deployed_validation(const char *name, const char *metric, double *value);

int32 drop_model(const char *name);  // deletes every version; returns how many
// Serves `version` from now on, to everyone (traffic 1) or, as an A/B test's challenger, to that share
// of users (the main version keeps the rest); returns it.
int32 deploy_model(const char *name, int32 version, double traffic = 1);
int32 promote_model(const char *name);            // deploys the A/B test's challenger to everyone; returns it
int32 rollback_model(const char *name);           // serves the previously deployed version; returns it
int32 prune_model(const char *name, int32 keep);  // deletes all but the newest `keep` and the deployed
                                                  // version; returns how many were deleted
// Lets `role` (a role name, or PUBLIC) serve and read every version of `name`, or stops it; returns 1
// if that changed anything, else 0.
int32 grant_model(const char *name, const char *role, bool grant);

}  // namespace rec::pg
