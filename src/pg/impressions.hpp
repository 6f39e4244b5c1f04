// Impressions: what was shown to whom, by which version of a model, at which position and when, in
// rec.impressions (one row per list shown). Serving functions write them when asked
// (log_impressions => true); rec.log_impressions records a list the application showed itself;
// rec.online_metrics and rec.compare_versions (SQL) join them with feedback. PostgreSQL-style: raises
// errors.
//
// A served list is written straight into the table's heap, as the extension's owner, without SQL: the
// table is append-only and has no index (pruned by time with rec.prune_impressions). Where nothing
// may be written (a standby, a read-only transaction) a serving call still answers and its list is
// not logged; a NOTICE says so once per session.
#pragma once
#include "pg/serving.hpp"

namespace rec::pg {

// Records that `served` showed the items (dense indexes of served.model) to the user `user_id` (of SQL
// type `user_type`), best first. `served_by` names the function ('recommend', ...).
void log_served_list(const ServedVersion &served, Datum user_id, Oid user_type, const int32 *items, size_t count,
                     const char *served_by);

}  // namespace rec::pg
