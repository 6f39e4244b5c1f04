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
for algorithm in als ials; do
    notice=$(node 0 -c "SET client_min_messages = notice;
                        CALL rec.train('dist_$algorithm', 'ratings', algorithm => '$algorithm', factors => 16, iterations => 5)" 2>&1)
    node 0 -c "SET client_min_messages = warning;
               CALL rec.train('plain_$algorithm', 'ratings_plain', algorithm => '$algorithm', factors => 16, iterations => 5)"
    check "$algorithm: training on the distributed source says how it reads it" \
        "$(grep -c 'is distributed by Citus (by user_id): rec.train reads its rows through the coordinator' <<<"$notice")" "1"
    check "$algorithm: the same top 10 for 100 users as the same call on a plain table" "$(top10 "dist_$algorithm")" \
        "$(top10 "plain_$algorithm")"
done

check "evaluate on a distributed test source equals evaluate on a plain one" \
    "$(node 0 -c "SET client_min_messages = warning;
                  SELECT string_agg(metric || '=' || round(value::numeric, 10), ' ' ORDER BY metric)
                  FROM rec.evaluate('dist_als', 'test_ratings')")" \
    "$(node 0 -c "SELECT string_agg(metric || '=' || round(value::numeric, 10), ' ' ORDER BY metric)
                  FROM rec.evaluate('dist_als', 'test_plain')")"
check "recommend_all over a model of a distributed source equals rec.recommend for every user" \
    "$(node 0 -c "SELECT rec.recommend_all('dist_ials', 10, 'all_recs') > 0;
                  SELECT count(*) FROM all_recs a WHERE a.item_id IS DISTINCT FROM
                         (SELECT item_id FROM rec.recommend(a.user_id, 10, 'dist_ials') OFFSET a.rank - 1 LIMIT 1)")" \
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
finish
