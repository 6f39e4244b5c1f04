#!/usr/bin/env bash
# Serving without the shared cache (rec.cache_size = 0, as without shared_preload_libraries): each
# connection keeps its own copy, and everything still works, refreshes included (issues 4 and 5).
# Needs a superuser (ALTER SYSTEM); restores the setting at the end.
set -euo pipefail
source "$(dirname "$0")/checks.sh"
trap 'psql -X -q -c "ALTER SYSTEM RESET rec.cache_size" -c "SELECT pg_reload_conf()" > /dev/null' EXIT
psql -X -q -c "ALTER SYSTEM SET rec.cache_size = 0" -c "SELECT pg_reload_conf()" > /dev/null
sleep 0.3
sql -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS local_ratings" \
    -c "SELECT rec.drop_model(name) FROM (SELECT DISTINCT name FROM rec.models WHERE name = 'local_probe') m" \
    -c "CREATE TABLE local_ratings AS SELECT u AS user_id, i AS item_id, 1 + (u * 7 + i * 3) % 5 AS rating
        FROM generate_series(1, 60) u, generate_series(1, 50) i WHERE (u + i) % 3 <> 0" \
    -c "CALL rec.train('local_probe', 'local_ratings', factors => 4, iterations => 5)" > /dev/null
check "a connection serves from its own copy" \
      "$(sql -c "SELECT count(*) FROM rec.recommend(1, 5, 'local_probe')" \
             -c "SELECT string_agg(shared::text, ',') FROM rec.cache_status() s JOIN rec.models m USING (model_id)
                 WHERE m.name = 'local_probe'" | paste -sd' ')" "5 false"
# A refresh, then a prediction served from the (patched) local copy equals one over the tables.
check "a refreshed user is served as stored" \
      "$(sql -c "SELECT count(*) FROM rec.recommend(2, 5, 'local_probe')" \
             -c "UPDATE local_ratings SET rating = 6 - rating WHERE user_id = 2" \
             -c "SELECT rec.refresh_users('local_probe', ARRAY[2])" \
             -c "SELECT abs(rec.predict(2, 1, 'local_probe') - greatest(1, least(5,
                     v.global_mean + u.bias + i.bias + (SELECT sum(a * b) FROM unnest(u.factors, i.factors) t(a, b))))) < 1e-3
                 FROM rec.model_versions v JOIN rec.user_factors u USING (model_id) JOIN rec.item_factors i USING (model_id)
                 WHERE v.name = 'local_probe' AND u.user_id = 2 AND i.item_id = 1" | tail -n 1)" "t"
sql -c "SET client_min_messages = warning" -c "SELECT rec.drop_model('local_probe')" -c "DROP TABLE local_ratings" > /dev/null
finish
