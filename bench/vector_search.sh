#!/usr/bin/env bash
# rec.recommend against pgvector on the same factors (a benchmark, not a test), issue 16: for catalogues of
# 10,000, 100,000 and 1,000,000 items (gen_synth.py 20000 N 3000000 OUT --seed 2 --alpha 0.5, plus one
# rating per item so that every item exists; ials, 64 factors, 3 iterations), the factors exported with
# rec.export_vectors (66 dimensions), then for 100 sample users the top 10 by
#   rec.recommend(u, 10, m, exclude_seen => false[, candidates => ids passing the filter])
#   pgvector exact: ORDER BY embedding <#> user LIMIT 10 (no index; the planner's own plan)
#   pgvector HNSW (m 16, ef_construction 64): ef_search 40 (pgvector's default) and 100, and with a filter
#   also hnsw.iterative_scan = relaxed_order (pgvector 0.8: the scan goes on until the LIMIT is met)
# with no filter and with a filter on an item attribute passed by 10% and 1% of the items (pgvector
# filters after the index scan, so ef_search bounds what a filtered query can return).
# Prints per method: in-server p50 and p90 ms (clock_timestamp around each call, PL/pgSQL, after a warm-up
# pass), rows returned (mean), recall@10 of rec.recommend's list (the exact top 10), and writes
# $OUT/vector_search.csv for bench/plots.py. Needs pg_recommend and pgvector installed
# (scripts/pgvector.sh) and python3-numpy.
#   bench/vector_search.sh ["10000 100000 1000000"]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${1:-"10000 100000 1000000"}
OUT=${BENCH_OUT:-$PWD/bench/out}
mkdir -p "$OUT"
for n in $SIZES; do
    [ -f "$OUT/catalogue_$n/all.txt" ] ||
        /usr/bin/python3 ../shared/tools/gen_synth.py 20000 "$n" 3000000 "$OUT/catalogue_$n" --seed 2 --alpha 0.5 >/dev/null
done
if [ "$(id -u)" = 0 ]; then chmod -R a+rwX "$OUT"; d="$OUT"; while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done; fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); $(date -u '+%Y-%m-%d %H:%M') UTC"
echo "size,method,filter,p50_ms,p90_ms,mean_rows,recall,plan" > "$OUT/vector_search.csv"

pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" -o "shared_buffers=3GB" -o "max_wal_size=8GB" \
    -o "maintenance_work_mem=4GB" -o "max_parallel_maintenance_workers=1" bash -c "
set -euo pipefail
q() { psql -X -q -v ON_ERROR_STOP=1 \"\$@\"; }
q <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION pg_recommend;
CREATE EXTENSION vector;
CREATE TABLE timings (size int, method text, filter int, user_id bigint, ms float8, items bigint[]);
CREATE TABLE plans (size int, method text, filter int, plan text);
-- time_method(size, method, filter percent, function): calls the function for every sample user twice
-- (the first pass warms the caches) and records the second pass.
CREATE FUNCTION time_method(p_size int, p_method text, p_filter int, p_function text) RETURNS void
LANGUAGE plpgsql AS \$\$
DECLARE
    u record; t0 timestamptz; result bigint[]; pass int;
    allowed bigint[] := (SELECT array_agg(id) FROM items WHERE category < p_filter);
BEGIN
    FOR pass IN 1..2 LOOP
        FOR u IN SELECT id, embedding FROM sample_users ORDER BY id LOOP
            t0 := clock_timestamp();
            EXECUTE format('SELECT %s(\$1, \$2, \$3)', p_function) INTO result USING u.id, u.embedding, allowed;
            IF pass = 2 THEN
                INSERT INTO timings VALUES (p_size, p_method, p_filter, u.id,
                    extract(epoch FROM clock_timestamp() - t0) * 1000, result);
            END IF;
        END LOOP;
    END LOOP;
END \$\$;
SQL
# record_plan SIZE METHOD FILTER EF_SEARCH ITERATIVE: the plan's scan node for a sample user, as an
# application sending the vector gets it.
record_plan() {
    local where=\"WHERE category < \$3\"; [ \$3 = 100 ] && where=
    local plan=\$(psql -X -At -c \"SET hnsw.ef_search = \$4\" -c \"SET hnsw.iterative_scan = \$5\" -c \"EXPLAIN (COSTS OFF)
        SELECT id FROM items \$where ORDER BY embedding <#> '\$(psql -X -At -c 'SELECT embedding FROM sample_users ORDER BY id LIMIT 1')' LIMIT 10\" |
        grep -oE 'Index Scan using items_hnsw|Seq Scan|Bitmap Heap Scan' | head -1)
    q -c \"INSERT INTO plans VALUES (\$1, '\$2', \$3, '\${plan/Index Scan using items_hnsw/HNSW index scan}')\"
}
# time_hnsw SIZE FILTER EF_SEARCH ITERATIVE METHOD
time_hnsw() {
    q -c \"ALTER FUNCTION vec_f\$2(bigint, vector, bigint[]) SET hnsw.ef_search = \$3\" \\
      -c \"ALTER FUNCTION vec_f\$2(bigint, vector, bigint[]) SET hnsw.iterative_scan = \$4\" \\
      -c \"SELECT time_method(\$1, '\$5', \$2, 'vec_f\$2')\" >/dev/null
    record_plan \$1 \"\$5\" \$2 \$3 \$4
}
for n in $SIZES; do
    q <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS ratings, items, users, sample_users;
CREATE TABLE ratings (user_id int, item_id int, rating real);
\\\\copy ratings FROM '$OUT/catalogue_\$n/all.txt' WITH (DELIMITER ' ')
INSERT INTO ratings SELECT i % 20000, i, 3 FROM generate_series(0, \$n - 1) i;
CALL rec.train('catalogue', 'ratings', algorithm => 'ials', factors => 64, iterations => 3);
SELECT rec.export_vectors('catalogue', 'items'), rec.export_vectors('catalogue', 'users', 'user');
-- An attribute to filter on, unrelated to the factors: category < 10 passes 10% of the items, < 1 passes 1%.
ALTER TABLE items ADD COLUMN category int;
UPDATE items SET category = abs(hashint8(id)) % 100;
VACUUM ANALYZE items;
SELECT setseed(0.42);
CREATE TABLE sample_users AS SELECT * FROM users ORDER BY random() LIMIT 100;
SQL
    # The functions timed. Each returns the 10 ids; the filter is a literal in the query, as an
    # application writes it, except for rec.recommend, which takes the allowed ids as an array.
    for f in 100 10 1; do
        where=\"WHERE category < \$f\"; [ \$f = 100 ] && where=
        cand=\", candidates => allowed\"; [ \$f = 100 ] && cand=
        q <<SQL
CREATE OR REPLACE FUNCTION rec_f\$f(u bigint, v vector, allowed bigint[]) RETURNS bigint[] LANGUAGE plpgsql AS
\\\$\\\$ BEGIN RETURN (SELECT array_agg(item_id) FROM rec.recommend(u, 10, 'catalogue', exclude_seen => false \$cand)); END \\\$\\\$;
CREATE OR REPLACE FUNCTION vec_f\$f(u bigint, v vector, allowed bigint[]) RETURNS bigint[] LANGUAGE plpgsql AS
\\\$\\\$ BEGIN RETURN (SELECT array_agg(id) FROM (SELECT id FROM items \$where ORDER BY embedding <#> v LIMIT 10) t); END \\\$\\\$;
SQL
    done
    echo \"== \$n items\"
    q -c 'SELECT count(*) FROM rec.recommend(0, 10, '\"'catalogue'\"')' >/dev/null
    for f in 100 10 1; do
        q -c \"SELECT time_method(\$n, 'rec.recommend', \$f, 'rec_f\$f'), time_method(\$n, 'pgvector exact', \$f, 'vec_f\$f')\" >/dev/null
        record_plan \$n 'pgvector exact' \$f 40 off
    done
    start=\$(date +%s.%N)
    q -c 'CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_ip_ops) WITH (m = 16, ef_construction = 64)'
    echo \"   HNSW index built in \$(awk -v a=\$start -v b=\$(date +%s.%N) 'BEGIN {printf \"%.1f\", b - a}') s, \$(psql -X -At -c \"SELECT pg_size_pretty(pg_relation_size('items_hnsw'))\")\"
    for f in 100 10 1; do
        time_hnsw \$n \$f 40 off 'HNSW ef_search 40'
        time_hnsw \$n \$f 100 off 'HNSW ef_search 100'
        [ \$f = 100 ] || time_hnsw \$n \$f 100 relaxed_order 'HNSW ef_search 100, iterative'
    done
    # The cost of building the candidates array in SQL, which rec.recommend's calls above were handed.
    for f in 10 1; do
        echo \"   building the candidates array for a \$f% filter in SQL: \$(psql -X -At -c \"
            DO \\\$\\\$ DECLARE t0 timestamptz; a bigint[]; ms float8[]; BEGIN
              FOR i IN 1..21 LOOP t0 := clock_timestamp(); a := (SELECT array_agg(id) FROM items WHERE category < \$f);
                ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000; END LOOP;
              RAISE NOTICE '%', (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY m)::numeric, 2) FROM unnest(ms) m); END \\\$\\\$\" 2>&1 | grep -oE '[0-9.]+\$') ms p50\"
    done
    q -c \"SELECT rec.drop_model('catalogue')\" >/dev/null
done
psql -X -q -c \"\\\\copy (
    SELECT t.size, t.method, t.filter,
           round(percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ms)::numeric, 3),
           round(percentile_cont(0.9) WITHIN GROUP (ORDER BY t.ms)::numeric, 3),
           round(avg(coalesce(cardinality(t.items), 0)), 2),
           round(avg((SELECT count(*) FROM unnest(t.items) i WHERE i = ANY (r.items)) / 10.0), 3),
           coalesce(min(p.plan), 'pg_recommend')
    FROM timings t JOIN timings r ON r.size = t.size AND r.filter = t.filter AND r.user_id = t.user_id
                                 AND r.method = 'rec.recommend'
         LEFT JOIN plans p ON p.size = t.size AND p.method = t.method AND p.filter = t.filter
    GROUP BY t.size, t.method, t.filter
    ORDER BY t.size, t.filter DESC, array_position(ARRAY['rec.recommend', 'pgvector exact', 'HNSW ef_search 40',
                                                        'HNSW ef_search 100', 'HNSW ef_search 100, iterative'], t.method)) TO STDOUT WITH (FORMAT csv)\" >> $OUT/vector_search.csv
"
column -s, -t "$OUT/vector_search.csv"  # (a method name with a comma is quoted)
