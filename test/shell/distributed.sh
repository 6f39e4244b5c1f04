#!/usr/bin/env bash
# pg_recommend on a Citus cluster (issue 15): a coordinator and two workers on this machine
# (test/shell/citus_cluster.sh), MovieLens-100k u1 (or, without ../shared/data, the shipped latest-small)
# distributed by user. What holds today, and must keep holding when training runs on the workers:
# training on the distributed table gives the model the same call gives on a plain copy (als and
# ials), serving, recommend_all, evaluate, split, profile and refresh work on distributed sources.
# Run as the user who runs the servers (scripts/test.sh runs it as postgres).
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/shell/checks.sh
source test/shell/citus_cluster.sh
trap citus_stop EXIT
export PGUSER=postgres
citus_start

ml100k=../shared/data/ml-100k
node 0 -c "CREATE TABLE ratings_plain (user_id int, item_id int, rating real, ts bigint);
           CREATE TABLE test_plain (LIKE ratings_plain)"
if [ -f "$ml100k/u1.base" ]; then
    echo "   data: u1 of MovieLens-100k"
    node 0 -c "\\copy ratings_plain FROM '$ml100k/u1.base' WITH (FORMAT text, DELIMITER E'\\t')"
    node 0 -c "\\copy test_plain FROM '$ml100k/u1.test' WITH (FORMAT text, DELIMITER E'\\t')"
else
    echo "   data: MovieLens latest-small (no MovieLens-100k at $ml100k)"
    node 0 -c "\\copy ratings_plain FROM 'data/ml-latest-small/ratings.csv' WITH (FORMAT csv, HEADER true)"
    node 0 -c "INSERT INTO test_plain SELECT * FROM ratings_plain WHERE (user_id * 7 + item_id) % 5 = 0;
               DELETE FROM ratings_plain WHERE (user_id * 7 + item_id) % 5 = 0"
fi
node 0 >/dev/null <<'SQL'
CREATE TABLE ratings (LIKE ratings_plain);
SELECT create_distributed_table('ratings', 'user_id');
INSERT INTO ratings SELECT * FROM ratings_plain;
CREATE TABLE test_ratings (LIKE test_plain);
SELECT create_distributed_table('test_ratings', 'user_id', colocate_with => 'ratings');
INSERT INTO test_ratings SELECT * FROM test_plain;
SQL
check "the source is distributed over both workers" \
    "$(node 0 -c "SELECT count(DISTINCT nodeport) FROM pg_dist_shard s JOIN pg_dist_placement USING (shardid)
                  JOIN pg_dist_node USING (groupid) WHERE s.logicalrelid = 'ratings'::regclass")" "2"

# The top 10 of 100 users, as text, for a model.
top10() {
    node 0 -c "SELECT string_agg(u || ':' || (SELECT string_agg(item_id::text, ',' ORDER BY score DESC, item_id)
                                             FROM rec.recommend(u, 10, '$1')), ';' ORDER BY u)
               FROM generate_series(1, 100) u"
}
# Rows that differ between the stored versions of two models (users, then items): factors, biases,
# seen lists, counts; then whether the global mean and the training metric are equal.
differences() {
    node 0 -c "SELECT (SELECT count(*) FROM rec.user_factors x FULL JOIN (SELECT * FROM rec.user_factors
                                 WHERE model_id = b.model_id) y USING (user_id)
                       WHERE x.model_id = a.model_id AND (y.user_id IS NULL OR x.factors <> y.factors
                             OR x.bias <> y.bias OR x.seen_items <> y.seen_items OR x.seen_values <> y.seen_values))
                    + (SELECT count(*) FROM rec.user_factors WHERE model_id = b.model_id)
                    - (SELECT count(*) FROM rec.user_factors WHERE model_id = a.model_id),
                      (SELECT count(*) FROM rec.item_factors x JOIN rec.item_factors y USING (item_id)
                       WHERE x.model_id = a.model_id AND y.model_id = b.model_id
                             AND (x.factors <> y.factors OR x.bias <> y.bias OR x.n_ratings <> y.n_ratings))
                    + (SELECT count(*) FROM rec.item_factors WHERE model_id = b.model_id)
                    - (SELECT count(*) FROM rec.item_factors WHERE model_id = a.model_id),
                      a.global_mean = b.global_mean AND a.train_value = b.train_value AND a.n_ratings = b.n_ratings
                      AND a.rating_min = b.rating_min AND a.rating_max = b.rating_max
               FROM rec.model_versions a, rec.model_versions b WHERE a.name = '$1' AND b.name = '$2'"
}
for algorithm in als ials; do
    notice=$(node 0 -c "SET client_min_messages = notice;
                        CALL rec.train('dist_$algorithm', 'ratings', algorithm => '$algorithm', factors => 16, iterations => 5)" 2>&1)
    node 0 -c "SET client_min_messages = warning;
               CALL rec.train('plain_$algorithm', 'ratings_plain', algorithm => '$algorithm', factors => 16, iterations => 5)"
    check "$algorithm: a source distributed by user trains on the workers" \
        "$(grep -c 'is distributed by Citus: training on the workers' <<<"$notice")" "1"
    check "$algorithm: iterations are reported as they end" "$(grep -c 'iteration [0-9]/5: ' <<<"$notice")" "5"
    check "$algorithm: factors, biases, seen lists, counts, mean and metric equal the plain table's bit for bit" \
        "$(differences "dist_$algorithm" "plain_$algorithm")" "0|0|t"
    check "$algorithm: the same top 10 for 100 users as the same call on a plain table" "$(top10 "dist_$algorithm")" \
        "$(top10 "plain_$algorithm")"
done
check "cholesky ials with the implicit library's confidence also equals the plain table's" \
    "$(node 0 -c "SET client_min_messages = warning;
                  CALL rec.train('dist_exact', 'ratings', algorithm => 'ials', solver => 'cholesky',
                                 confidence => 'implicit', alpha => 4, factors => 8, iterations => 3);
                  CALL rec.train('plain_exact', 'ratings_plain', algorithm => 'ials', solver => 'cholesky',
                                 confidence => 'implicit', alpha => 4, factors => 8, iterations => 3)" >/dev/null
      differences dist_exact plain_exact)" "0|0|t"
check "bpr on a distributed source says why it trains on the coordinator" \
    "$(node 0 -c "SET client_min_messages = notice;
                  CALL rec.train('dist_bpr', 'ratings', algorithm => 'bpr', factors => 8, iterations => 2)" 2>&1 |
       grep -c 'but rec.train trains on the coordinator: bpr trains on one node')" "1"
node 0 -c "CREATE ROLE reader LOGIN; GRANT SELECT ON ratings TO reader"
check "a role that may only read the source trains on the workers" \
    "$(node 0 -U reader -c "SET client_min_messages = notice;
                            CALL rec.train('reader_ials', 'ratings', algorithm => 'ials', factors => 8, iterations => 2)" 2>&1 |
       grep -c 'on the Citus workers')|$(node 0 -U reader -c "SELECT count(*) FROM rec.recommend(1, 10, 'reader_ials')")" "1|10"
node 0 -c "REVOKE SELECT ON ratings FROM reader; GRANT SELECT (user_id, item_id) ON ratings TO reader"
check "a role that may not read the rating column is refused" \
    "$(node 0 -U reader -c "CALL rec.train('reader_als', 'ratings', algorithm => 'als')" 2>&1 | grep -c 'permission denied')" "1"

# Serving from the workers: the deployed version installed on each worker with its own users.
check "rec.distribute_model installs the version on both workers" \
    "$(node 0 -c "SELECT rec.distribute_model('dist_ials')")" "2"
check "each worker holds the items and only the users of its shards" \
    "$(for n in 1 2; do node "$n" -c "SELECT n_items = 1650 AND n_users < 943 FROM rec.model_versions WHERE name = 'dist_ials'"; done | tr '\n' ' ')$(
       node 1 -c "SELECT n_users FROM rec.model_versions WHERE name = 'dist_ials'" |
       awk -v other="$(node 2 -c "SELECT n_users FROM rec.model_versions WHERE name = 'dist_ials'")" '{ print $1 + other }')" \
    "t t 943"
check "rec.recommend on the coordinator, answered by the workers, equals the plain model's lists for 100 users" \
    "$(top10 dist_ials)" "$(top10 plain_ials)"
for n in 1 2; do node "$n" -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null; done
sleep 0.5
owner=$(node 0 -c "SELECT n.nodeport - $CITUS_PORT FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
                   WHERE p.shardid = get_shard_id_for_distribution_column('ratings', 7)")
calls() { grep -c 'CROSS JOIN LATERAL rec.recommend(' "$CITUS_DIR/node$1.log" || true; }
before1=$(calls 1) before2=$(calls 2)
node 0 -c "SELECT count(*) FROM rec.recommend(7, 10, 'dist_ials')" >/dev/null
sleep 0.3
answered="$(( $(calls 1) - before1 )) $(( $(calls 2) - before2 ))"
check "user 7's call is answered by the worker holding its shard (node $owner), and only there (the workers' logs)" \
    "$answered" "$([ "$owner" = 1 ] && echo "1 0" || echo "0 1")"
check "each worker's shared cache holds the version once" \
    "$(for n in 1 2; do node "$n" -c "SELECT count(*) FROM rec.cache_status() c JOIN rec.model_versions v USING (model_id)
                                      WHERE v.name = 'dist_ials'"; done | tr '\n' ' ')" "1 1 "
check "an unknown user, and a call that logs impressions (both served by the coordinator), get their lists" \
    "$(node 0 -c "SELECT count(*) FROM rec.recommend(999999, 10, 'dist_ials')")|$(
       node 0 -c "SELECT count(*) FROM rec.recommend(7, 10, 'dist_ials', log_impressions => true)")" "10|10"

check "recommend_all of the distributed version writes a distributed table equal to the plain model's, row for row" \
    "$(node 0 -c "SET client_min_messages = warning;
                  SELECT rec.recommend_all('dist_ials', 10, 'all_dist');
                  SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'all_dist'::regclass;
                  SELECT rec.recommend_all('plain_ials', 10, 'all_plain');
                  SELECT count(*) FROM ((SELECT * FROM all_dist EXCEPT SELECT * FROM all_plain)
                                        UNION ALL (SELECT * FROM all_plain EXCEPT SELECT * FROM all_dist)) d" | tr '\n' ' ')" \
    "9430 1 9430 0 "

before=$(top10 dist_bpr)
check "a version trained on the coordinator (bpr) is distributed for serving the same way, with the same lists" \
    "$(node 0 -c "SELECT rec.distribute_model('dist_bpr')")|$(top10 dist_bpr)" "2|$before"
before1=$(calls 1) before2=$(calls 2)
node 0 -c "SET client_min_messages = warning; SELECT rec.refresh_users('dist_ials', ARRAY[7]);
           SELECT count(*) FROM rec.recommend(7, 10, 'dist_ials')" >/dev/null
check "after a refresh changes the version, the coordinator answers itself (no worker is asked)" \
    "$(( $(calls 1) - before1 )) $(( $(calls 2) - before2 ))" "0 0"

for n in 1 2; do node "$n" -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null; done
check "evaluate on a distributed test source equals evaluate on a plain one" \
    "$(node 0 -c "SET client_min_messages = warning;
                  SELECT string_agg(metric || '=' || round(value::numeric, 10), ' ' ORDER BY metric)
                  FROM rec.evaluate('dist_als', 'test_ratings')")" \
    "$(node 0 -c "SELECT string_agg(metric || '=' || round(value::numeric, 10), ' ' ORDER BY metric)
                  FROM rec.evaluate('dist_als', 'test_plain')")"
check "recommend_all on the coordinator (a version not distributed) equals rec.recommend for every user" \
    "$(node 0 -c "SELECT rec.recommend_all('dist_als', 10, 'all_recs') > 0;
                  SELECT count(*) FROM all_recs a WHERE a.item_id IS DISTINCT FROM
                         (SELECT item_id FROM rec.recommend(a.user_id, 10, 'dist_als') OFFSET a.rank - 1 LIMIT 1)")" \
    "$(printf 't\n0')"
check "split of a distributed source keeps every row once" \
    "$(node 0 -c "SELECT train_rows + test_rows = (SELECT count(*) FROM ratings)
                  FROM rec.split('ratings', 'split_train', 'split_test', method => 'per_user')")" "t"
check "profile of a distributed source counts its rows" \
    "$(node 0 -c "SET client_min_messages = warning;
                  SELECT value = (SELECT count(*) FROM ratings) FROM rec.profile('ratings') WHERE finding = 'rows'")" "t"
node 0 -c "INSERT INTO ratings VALUES (1, 1682, 5, 0), (100001, 1, 4, 0)"
check "refresh_users reads a distributed source" \
    "$(node 0 -c "SET client_min_messages = warning; SELECT rec.refresh_users('dist_als', ARRAY[1, 100001])")" "2"
# What a run leaves behind on every node: copies of the rows, and versions of the model.
leftovers() {
    local n tables=0
    for n in 0 1 2; do
        tables=$((tables + $(node "$n" -c "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'training_rows%'")))
    done
    echo "$tables tables, $(node 0 -c "SELECT count(*) FROM rec.model_versions WHERE name = '$1'") versions"
}
# Seconds from now until no worker runs a half-step any more.
seconds_until_workers_idle() {
    local start=$(date +%s.%N) n busy
    for _ in $(seq 100); do
        busy=0
        for n in 1 2; do
            busy=$((busy + $(node "$n" -c "SELECT count(*) FROM pg_stat_activity
                                           WHERE state = 'active' AND query LIKE '%distributed_solve_row%'
                                             AND pid <> pg_backend_pid()")))
        done
        [ "$busy" = 0 ] && break
        sleep 0.05
    done
    awk -v start="$start" -v end="$(date +%s.%N)" 'BEGIN { printf "%.2f", end - start }'
}
# Starts a long training in the background; returns once the workers are solving rows.
long_training() {
    (node 0 -c "CALL rec.train('$1', 'ratings', algorithm => 'ials', factors => 128, iterations => 500)" \
        >"$CITUS_DIR/long.out" 2>&1 || true) &
    for _ in $(seq 200); do
        [ "$(node 1 -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%distributed_solve_row%'
                                                              AND pid <> pg_backend_pid()")" != 0 ] && return
        sleep 0.05
    done
}
long_training dist_cancelled
node 0 -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'CALL rec.train(%dist_cancelled%'" >/dev/null
idle=$(seconds_until_workers_idle)
wait
echo "   the workers stopped solving rows $idle s after the cancel"
check "a cancel on the coordinator stops the workers' half-step within about a second" \
    "$(awk -v idle="$idle" 'BEGIN { print (idle < 1.5) }')" "1"
check "the cancelled call says so" "$(grep -c 'canceling statement due to user request' "$CITUS_DIR/long.out")" "1"
check "a cancelled run leaves no table and no version on any node" "$(leftovers dist_cancelled)" "0 tables, 0 versions"

before=$(top10 dist_als)
long_training dist_als
"$PG_BIN/pg_ctl" -D "$CITUS_DIR/node2" -m fast stop >/dev/null
wait
echo "   the call said: $(grep ERROR "$CITUS_DIR/long.out")"
check "a worker stopped mid-training fails the call with Citus's connection error" \
    "$(grep -c -i -E 'ERROR: .*(connection|server closed|terminat)' "$CITUS_DIR/long.out")" "1"
"$PG_BIN/pg_ctl" -D "$CITUS_DIR/node2" -l "$CITUS_DIR/node2.log" -w start >/dev/null
check "after it, the previous version still serves the same lists" "$(top10 dist_als)" "$before"
check "and no node keeps a table or a version of it" "$(leftovers dist_als)" "0 tables, 1 versions"
finish
