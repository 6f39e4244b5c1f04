#!/usr/bin/env bash
# rec.refresh_users cost on MovieLens latest-small (not a test; issue 5, check 4): a model trained on the
# ratings (index on user_id), then 100 users refreshed one call each, and 20 new ratings for one user
# followed by its refresh; and 100 users in one call. Also the cost that follows: the next
# rec.recommend loads the new revision. Then, in new sessions, the first calls (where the time of a
# session's first refresh goes: docs/benchmarks.md).
#   bench/refresh.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then chmod -R a+rX data; d="$PWD"; while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done; fi
pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" bash -c "
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION pg_recommend;
CREATE TABLE ratings (user_id int, item_id int, rating real, ts bigint);
\\copy ratings FROM '$PWD/data/ml-latest-small/ratings.csv' WITH (FORMAT csv, HEADER true)
CREATE INDEX ON ratings (user_id);
SET client_min_messages = warning;
CALL rec.train('movies', 'ratings', factors => 64, iterations => 15, regularization => 0.1);
SELECT count(*) FROM rec.recommend(1, 10, 'movies');
\\timing on
-- 100 users, one call each (each call: read the user's rows through the index, solve, write the row;
-- and load the model's previous revision, which the previous call replaced).
DO \\\$\\\$ BEGIN FOR u IN 1..100 LOOP PERFORM rec.refresh_users('movies', ARRAY[u::bigint]); END LOOP; END \\\$\\\$;
-- The same 100 users in one call.
SELECT rec.refresh_users('movies', ARRAY(SELECT generate_series(101, 200)::bigint));
-- 20 new ratings for user 7, then its refresh.
INSERT INTO ratings SELECT 7, item_id, 5, 0 FROM (SELECT item_id FROM ratings WHERE item_id NOT IN
    (SELECT item_id FROM ratings WHERE user_id = 7) GROUP BY item_id ORDER BY count(*) DESC LIMIT 20) i;
SELECT rec.refresh_users('movies', ARRAY[7]);
-- The next call loads the new revision into the cache; the one after is served from it.
SELECT count(*) FROM rec.recommend(7, 10, 'movies');
SELECT count(*) FROM rec.recommend(7, 10, 'movies');
SQL
echo 'New sessions (7, medians): three rec.refresh_users calls, then a rec.recommend and another'
for session in 1 2 3 4 5 6 7; do
    psql -X -q -At -v ON_ERROR_STOP=1 <<'SQL' | grep '^Time' | awk '{print \$2}' | paste -s -d ' '
\\timing on
SELECT rec.refresh_users('movies', ARRAY[8]);
SELECT rec.refresh_users('movies', ARRAY[9]);
SELECT rec.refresh_users('movies', ARRAY[10]);
SELECT count(*) FROM rec.recommend(11, 10, 'movies');
SELECT count(*) FROM rec.recommend(12, 10, 'movies');
SQL
done > /tmp/refresh_sessions.\$\$
c=1
for name in first_refresh second_refresh third_refresh next_recommend the_one_after; do
    echo \"\$name \$(cut -d' ' -f\$c /tmp/refresh_sessions.\$\$ | sort -n | awk '{v[NR] = \$1} END {print v[int((NR + 1) / 2)]}') ms\"
    c=\$((c + 1))
done
rm -f /tmp/refresh_sessions.\$\$
" 2>&1 | grep -v "^Dropping cluster\|^Creating new\|^20[0-9][0-9]-\|^\*\*\*"
