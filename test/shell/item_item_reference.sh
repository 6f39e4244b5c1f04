#!/usr/bin/env bash
# Item-item models against a plain NumPy computation (issue 17, check 1): on MovieLens-100k u1
# (u1.base / u1.test, ratings >= 4 as positives), EASE^R at its default λ and item-kNN (cosine,
# the default neighbours) are trained by rec.train; test/shell/item_item_reference.py computes the same
# closed form and the same similarities in double precision and ranks every test user as rec.evaluate
# does. Checks: precision@10 equal within 1e-3 (both models), every stored item-kNN weight equal to
# the plain cosine within 1e-5, and EASE's weights within 1e-4 of NumPy's. Needs python3-numpy and
# ../shared/data/ml-100k; runs against the server in the PG* variables.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/shell/checks.sh
ML=${ML100K:-$PWD/../shared/data/ml-100k}
if [ ! -f "$ML/u1.base" ]; then echo "skipped: no MovieLens-100k at $ML"; exit 0; fi
out=$(mktemp -d)
chmod a+rwx "$out"
sql -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS ii_base, ii_test" \
    -c "CREATE TABLE ii_base (user_id int, item_id int, rating int, ts bigint)" \
    -c "CREATE TABLE ii_test (user_id int, item_id int, rating int, ts bigint)" >/dev/null
sql -c "\\copy ii_base FROM '$ML/u1.base'" -c "\\copy ii_test FROM '$ML/u1.test'" >/dev/null
sql -c "SET client_min_messages = warning" \
    -c "CREATE VIEW ii_base_pos AS SELECT user_id, item_id, 1 AS value FROM ii_base WHERE rating >= 4" \
    -c "CREATE VIEW ii_test_pos AS SELECT user_id, item_id, 1 AS value FROM ii_test WHERE rating >= 4" \
    -c "CALL rec.train('ii_ease', 'ii_base_pos', rating_column => 'value', algorithm => 'ease')" \
    -c "CALL rec.train('ii_knn', 'ii_base_pos', rating_column => 'value', algorithm => 'itemknn')" >/dev/null
for m in ii_ease ii_knn; do
    sql -c "SELECT value FROM rec.evaluate('$m', 'ii_test_pos', 10, rating_column => 'value') WHERE metric = 'precision'" \
        > "$out/$m.precision"
    sql -c "\\copy (SELECT w.item_id, coalesce(w.neighbours, (SELECT array_agg(g - 1) FROM generate_series(1, cardinality(w.weights)) g)), w.weights
                   FROM rec.item_weights w JOIN rec.models m ON m.model_id = w.model_id AND m.name = '$m' AND m.deployed
                   ORDER BY w.item_id) TO '$out/$m.weights'"
done
lambda=$(sql -c "SELECT hyperparameters->>'regularization' FROM rec.models WHERE name = 'ii_ease' AND deployed")
neighbours=$(sql -c "SELECT hyperparameters->>'neighbours' FROM rec.models WHERE name = 'ii_knn' AND deployed")
read -r ease_p ease_ref ease_gap knn_p knn_ref knn_gap <<<"$(/usr/bin/python3 test/shell/item_item_reference.py "$ML" "$out" "$lambda" "$neighbours" | tr "\n" " ")"
echo "   EASE (λ $lambda): precision@10 $ease_p, NumPy $ease_ref; largest weight difference $ease_gap"
echo "   item-kNN (cosine, $neighbours neighbours): precision@10 $knn_p, NumPy $knn_ref; largest weight difference $knn_gap"
within() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; print (d <= t) ? "yes" : "no (" d ")" }'; }
check "EASE's precision@10 equals the NumPy closed form's within 1e-3" "$(within "$ease_p" "$ease_ref" 1e-3)" "yes"
check "EASE's weights equal NumPy's within 1e-4" "$(within "$ease_gap" 0 1e-4)" "yes"
check "item-kNN's precision@10 equals the plain computation's within 1e-3" "$(within "$knn_p" "$knn_ref" 1e-3)" "yes"
check "every stored item-kNN weight is the plain cosine within 1e-5" "$(within "$knn_gap" 0 1e-5)" "yes"
sql -c "SET client_min_messages = warning" -c "SELECT rec.drop_model('ii_ease'), rec.drop_model('ii_knn')" \
    -c "DROP VIEW ii_base_pos, ii_test_pos" -c "DROP TABLE ii_base, ii_test" >/dev/null
rm -rf "$out"
finish
