#!/usr/bin/env bash
# rec.export_vectors with pgvector (issue 16, check 3): the inner product of an exported user and item
# equals rec.predict's score; pgvector's exact search returns rec.recommend's top 10
# (exclude_seen => false); HNSW's recall of it is reported and must be high. Needs pgvector installed
# (scripts/pgvector.sh); runs against the server in the PG* variables.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/shell/checks.sh
sql -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS vec_ratings, vec_items, vec_users, vec_items_als, vec_users_als" \
    -c "CREATE EXTENSION IF NOT EXISTS vector" \
    -c "CREATE TABLE vec_ratings (user_id int, item_id int, rating real, ts bigint)" >/dev/null
sql -c "\\copy vec_ratings FROM 'data/ml-latest-small/ratings.csv' WITH (FORMAT csv, HEADER true)"
sql -c "SET client_min_messages = warning" \
    -c "CALL rec.train('vec_ials', 'vec_ratings', algorithm => 'ials', factors => 16, iterations => 5)" \
    -c "CALL rec.train('vec_als', 'vec_ratings', algorithm => 'als', factors => 16, iterations => 5)" >/dev/null
check "export_vectors writes every item and every user" \
    "$(sql -c "SELECT rec.export_vectors('vec_ials', 'vec_items'), rec.export_vectors('vec_ials', 'vec_users', 'user'),
                      rec.export_vectors('vec_als', 'vec_items_als'), rec.export_vectors('vec_als', 'vec_users_als', 'user')")" \
    "9724|610|9724|610"
check "the embeddings have k + 2 dimensions" "$(sql -c "SELECT vector_dims(embedding) FROM vec_items LIMIT 1")" "18"
# 100 users x 50 items: the largest difference between the inner product and rec.predict.
largest_gap() {
    sql -c "SELECT max(abs(greatest(least(-(u.embedding <#> i.embedding), $4), $3) - rec.predict(u.id, i.id, '$1')))
                   < 1e-5
            FROM $2 u, (SELECT * FROM vec_items${2#vec_users} ORDER BY id LIMIT 50) i WHERE u.id <= 100"
}
check "ials: the inner product of a user's and an item's vectors is rec.predict's score (within 1e-5)" \
    "$(largest_gap vec_ials vec_users -1e30 1e30)" "t"
check "als: the same, with the bias and the global mean folded in (rec.predict clips to 0.5..5)" \
    "$(largest_gap vec_als vec_users_als 0.5 5)" "t"
# Users (of 50) whose top 10 by pgvector's exact search is not rec.recommend's (exclude_seen => false).
exact_mismatches() {
    sql -c "SELECT count(*) FROM vec_users$2 u WHERE u.id <= 50 AND
                (SELECT array_agg(CAST(id AS bigint) ORDER BY id) FROM (SELECT i.id FROM vec_items$2 i ORDER BY i.embedding <#> u.embedding LIMIT 10) t)
                IS DISTINCT FROM
                (SELECT array_agg(item_id ORDER BY item_id) FROM rec.recommend(u.id, 10, '$1', exclude_seen => false))"
}
check "ials: pgvector's exact search returns rec.recommend's top 10 for 50 users" "$(exact_mismatches vec_ials '')" "0"
check "als: the same" "$(exact_mismatches vec_als _als)" "0"
check "an unknown model and an existing target are refused" \
    "$(sql -c "SELECT rec.export_vectors('no_such_model', 'vec_x')" 2>&1 | grep -c 'model "no_such_model" does not exist')|$(
       sql -c "SELECT rec.export_vectors('vec_ials', 'vec_items')" 2>&1 | grep -c 'already exists')" "1|1"
sql -c "CREATE INDEX ON vec_items USING hnsw (embedding vector_ip_ops)" >/dev/null
recall=$(sql -c "SET hnsw.ef_search = 100" -c "
    SELECT round(avg((SELECT count(*) FROM (SELECT i.id FROM vec_items i ORDER BY i.embedding <#> u.embedding LIMIT 10) h
                      WHERE h.id IN (SELECT item_id FROM rec.recommend(u.id, 10, 'vec_ials', exclude_seen => false))) / 10.0), 3)
    FROM vec_users u WHERE u.id <= 100")
echo "   HNSW (m = 16, ef_construction = 64, ef_search = 100) recall@10 of rec.recommend's lists, 100 users: $recall"
check "HNSW finds at least 90% of rec.recommend's top 10" "$(awk -v r="$recall" 'BEGIN { print (r >= 0.9) }')" "1"
sql -c "SET client_min_messages = warning" -c "SELECT rec.drop_model('vec_ials'), rec.drop_model('vec_als')" \
    -c "DROP TABLE vec_ratings, vec_items, vec_users, vec_items_als, vec_users_als" >/dev/null
finish
