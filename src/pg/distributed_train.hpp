// CALL rec.train on a Citus table distributed by its user column (issue 15): als and ials train where
// the shards are. The coordinator lists the ids, keeps the factors, and drives the iterations; each
// half-step is one pushed-down query whose rows are solved on the workers (rec.distributed_solve_row)
// against the other side's factors, which Citus broadcasts to each worker once as an intermediate
// result. A copy of the rows distributed by item, made for the run, serves the item half-steps.
// Everything happens in the CALL's transaction: an error or a cancel leaves nothing on any node.
#pragma once
#include "pg/source_reader.hpp"
#include "pg/train.hpp"

namespace rec::pg {

// Trains, stores and deploys a version as rec.train does, and returns true, when `source` is a Citus
// table distributed by its user column and the run can train there; `coordinator_only` is the reason
// the caller's options need the coordinator (NULL: none). Returns false when the coordinator must
// read the rows, having said why in a NOTICE if the source is distributed. PostgreSQL-style.
bool train_distributed(const char *model, const TrainSpec &spec, const SourceSpec &source, const RunOptions &run,
                       const char *coordinator_only);

}  // namespace rec::pg
