#!/usr/bin/env bash
# Five algorithm families side by side (a benchmark, not a test), issue 17 check 2: precision@10 and
# ndcg@10 (rec.evaluate, the implicit library's definitions) of als, ials, bpr, ease and itemknn with
# every default, with training seconds (rec.models.train_seconds: indexing and training) and the peak
# of memory the run counted (its NOTICE), on
#   MovieLens-100k u1 (../shared/data/ml-100k u1.base / u1.test; not shipped), and
#   MovieLens latest-small (data/ml-latest-small), split 80/20 at random with seed 42 (rec.split),
# ratings >= 4 as the positives every model is judged on (als trains on the ratings themselves, the
# others on the positives, value 1). With IMPLICIT_PYTHONPATH set (the implicit library built from its
# public source outside this repository), the same files through implicit's ALS and item-item
# recommenders in the same run (bench/item_item_peer.py). Also a sweep of ease's regularization and
# itemknn's neighbours, the evidence for their defaults. Writes $OUT/item_item.csv. Last, issue 17
# check 4: serving an EASE model of 10,000 items (gen_synth.py 20000 10000 3000000 OUT --seed 2 --alpha
# 0.5, every row a positive): rec.recommend's in-server p50 over 1,000 warm calls (PL/pgSQL,
# clock_timestamp() around each), beside ials (64 factors) and itemknn on the same rows.
#   [IMPLICIT_PYTHONPATH=... [IMPLICIT_LD_LIBRARY_PATH=...]] bench/item_item.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ML=${ML100K:-$PWD/../shared/data/ml-100k}
OUT=${BENCH_OUT:-$PWD/bench/out}
mkdir -p "$OUT"
[ -f "$ML/u1.base" ] || { echo "no MovieLens-100k at $ML" >&2; exit 1; }
[ -f "$OUT/catalogue_10000/all.txt" ] ||
    /usr/bin/python3 ../shared/tools/gen_synth.py 20000 10000 3000000 "$OUT/catalogue_10000" --seed 2 --alpha 0.5 >/dev/null
if [ "$(id -u)" = 0 ]; then chmod -R a+rwX "$OUT"; chmod -R a+rX "$ML" data; d="$OUT"; while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done; fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); $(date -u '+%Y-%m-%d %H:%M') UTC"
echo "data,model,precision,ndcg,train_seconds,peak_mb" > "$OUT/item_item.csv"

pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" -o "shared_buffers=1GB" bash -c "
set -euo pipefail
q() { psql -X -q -v ON_ERROR_STOP=1 \"\$@\"; }
q <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION pg_recommend;
CREATE TABLE ml_train (user_id int, item_id int, rating real, ts bigint);
CREATE TABLE ml_test (user_id int, item_id int, rating real, ts bigint);
\copy ml_train FROM '$ML/u1.base'
\copy ml_test FROM '$ML/u1.test'
CREATE TABLE ls_ratings (user_id int, item_id int, rating real, ts bigint);
\copy ls_ratings FROM 'data/ml-latest-small/ratings.csv' WITH (FORMAT csv, HEADER true)
SELECT * FROM rec.split('ls_ratings', 'ls_train', 'ls_test', method => 'random', test_fraction => 0.2, seed => 42);
CREATE VIEW ml_train_pos AS SELECT user_id, item_id, 1 AS value FROM ml_train WHERE rating >= 4;
CREATE VIEW ml_test_pos AS SELECT user_id, item_id, 1 AS value FROM ml_test WHERE rating >= 4;
CREATE VIEW ls_train_pos AS SELECT user_id, item_id, 1 AS value FROM ls_train WHERE rating >= 4;
CREATE VIEW ls_test_pos AS SELECT user_id, item_id, 1 AS value FROM ls_test WHERE rating >= 4;
SQL
for d in ml ls; do
    q -c \"\\\\copy (SELECT user_id, item_id FROM \${d}_train_pos) TO '$OUT/\${d}_train_pos.txt' WITH (DELIMITER ' ')\" \\
      -c \"\\\\copy (SELECT user_id, item_id FROM \${d}_test_pos) TO '$OUT/\${d}_test_pos.txt' WITH (DELIMITER ' ')\"
done
# run DATA NAME 'rec.train arguments': trains, evaluates on the positives, appends a CSV row.
run() {
    q -c \"CALL rec.train('\$2', \$3)\" 2> $OUT/item_item_notice.txt
    peak=\$(grep -oE 'peak memory about [0-9]+ MB' $OUT/item_item_notice.txt | awk '{print \$4}')
    psql -X -At -F, -c \"SELECT '\$1', '\$2', round(max(value) FILTER (WHERE metric = 'precision')::numeric, 4),
                              round(max(value) FILTER (WHERE metric = 'ndcg')::numeric, 4),
                              (SELECT round(train_seconds::numeric, 3) FROM rec.models WHERE name = '\$2' AND deployed), '\$peak'
                       FROM rec.evaluate('\$2', '\$1_test_pos', 10, rating_column => 'value')\" >> $OUT/item_item.csv
    q -c \"SELECT rec.drop_model('\$2')\" >/dev/null
}
for d in ml ls; do
    run \$d als \"'\${d}_train'\"
    run \$d ials \"'\${d}_train_pos', rating_column => 'value', algorithm => 'ials'\"
    run \$d bpr \"'\${d}_train_pos', rating_column => 'value', algorithm => 'bpr'\"
    run \$d ease \"'\${d}_train_pos', rating_column => 'value', algorithm => 'ease'\"
    run \$d itemknn \"'\${d}_train_pos', rating_column => 'value', algorithm => 'itemknn'\"
    run \$d itemknn_bm25 \"'\${d}_train_pos', rating_column => 'value', algorithm => 'itemknn', similarity => 'bm25'\"
    if [ -n \"${IMPLICIT_PYTHONPATH:-}\" ]; then
        for m in 0 1 2 3 4; do
            LD_LIBRARY_PATH=\"${IMPLICIT_LD_LIBRARY_PATH:-}\" PYTHONPATH=\"${IMPLICIT_PYTHONPATH:-}\" /usr/bin/python3 \\
                $PWD/bench/item_item_peer.py $OUT/\${d}_train_pos.txt $OUT/\${d}_test_pos.txt 2 \$m |
                awk -F'\t' -v d=\$d '{print d \",\" \$1 \",\" \$2 \",\" \$3 \",\" \$4 \",\" \$5}' >> $OUT/item_item.csv
        done
    fi
    # The evidence for the defaults: ease's λ and itemknn's neighbours swept.
    for l in 25 50 100 250 500 1000; do run \$d ease_l\$l \"'\${d}_train_pos', rating_column => 'value', algorithm => 'ease', regularization => \$l\"; done
    for k in 20 50 100 200 400; do run \$d itemknn_k\$k \"'\${d}_train_pos', rating_column => 'value', algorithm => 'itemknn', neighbours => \$k\"; done
done
echo '== serving a 10,000-item catalogue: in-server ms per rec.recommend call (1,000 warm calls, random users)'
q <<'SQL'
SET client_min_messages = warning;
CREATE TABLE catalogue (user_id int, item_id int, stars real);
\\copy catalogue FROM '$OUT/catalogue_10000/all.txt' WITH (DELIMITER ' ')
CALL rec.train('c_ease', 'catalogue', rating_column => NULL, algorithm => 'ease');
CALL rec.train('c_knn', 'catalogue', rating_column => NULL, algorithm => 'itemknn');
CALL rec.train('c_ials', 'catalogue', rating_column => NULL, algorithm => 'ials', factors => 64, iterations => 3);
CREATE FUNCTION time_calls(m text) RETURNS TABLE (p50 float8, p90 float8, mean_seen float8) LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; ms float8[]; u int; n int;
BEGIN
    PERFORM setseed(0.42);
    FOR i IN 1..2000 LOOP
        u := floor(random() * 20000);
        t0 := clock_timestamp();
        SELECT count(*) INTO n FROM rec.recommend(u, 10, m);
        IF i > 1000 THEN ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000; END IF;
    END LOOP;
    RETURN QUERY SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_cont(0.9) WITHIN GROUP (ORDER BY x),
                        (SELECT count(*)::float8 / count(DISTINCT user_id) FROM catalogue) FROM unnest(ms) x;
END \$\$;
SELECT m AS model, round(t.p50::numeric, 3) AS p50_ms, round(t.p90::numeric, 3) AS p90_ms, round(t.mean_seen::numeric) AS mean_items_per_user,
       (SELECT train_seconds::numeric(8, 1) FROM rec.models WHERE name = m AND deployed) AS train_seconds
FROM (VALUES ('c_ease'), ('c_knn'), ('c_ials')) v(m), time_calls(m) t;
SQL
"
column -s, -t "$OUT/item_item.csv"
