#!/usr/bin/env bash
# The demo (README quick start): installs what is missing, builds, starts a throw-away cluster, loads
# MovieLens latest-small (shipped in data/), trains a model and prints movie titles for a user.
source "$(dirname "$0")/common.sh"
install_packages
build_and_install
open_tree_to_postgres
DEMO_USER=${DEMO_USER:-1}
pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" bash -c "
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 -v data=\"$PWD/data/ml-latest-small\" -v demo_user=$DEMO_USER <<'SQL'
CREATE EXTENSION pg_recommend;
CREATE TABLE ratings (user_id int, item_id int, rating real, ts bigint);
CREATE TABLE movies (item_id int PRIMARY KEY, title text, genres text);
\set ratings_csv :data '/ratings.csv'
\set movies_csv :data '/movies.csv'
COPY ratings FROM :'ratings_csv' WITH (FORMAT csv, HEADER true);
COPY movies FROM :'movies_csv' WITH (FORMAT csv, HEADER true);
\echo
\echo Training on' MovieLens latest-small (100,836 ratings by 610 users on 9,724 movies)...'
CALL rec.train(model => 'movies', source => 'ratings');  -- every hyperparameter at its default
\echo
\echo 'User' :demo_user 'rated highest:'
SELECT m.title, r.rating FROM ratings r JOIN movies m USING (item_id)
WHERE r.user_id = :demo_user ORDER BY r.rating DESC, m.title LIMIT 5;
\echo 'Top 10 movies recommended for user' :demo_user '(among films with at least 20 ratings, already-seen left out;'
\echo 'best first by the model''s score, which may pass the top of the scale; the predicted rating is clipped to it, as rec.predict clips):'
CREATE TEMP TABLE popular AS
SELECT array_agg(item_id) AS items FROM (SELECT item_id FROM ratings GROUP BY item_id HAVING count(*) >= 20) p;
SELECT m.title, round(r.score::numeric, 2) AS score, round(least(r.score, 5)::numeric, 2) AS predicted_rating
FROM rec.recommend(:demo_user, n => 10, model => 'movies', candidates => (SELECT items FROM popular)) r
JOIN movies m USING (item_id)
ORDER BY r.score DESC;
\echo 'Why the first one? The films of user' :demo_user 'that raised its score most (rec.explain; most of a predicted rating is the film''s and the user''s overall bias):'
SELECT m.title, round(e.contribution::numeric, 3) AS contribution
FROM rec.recommend(:demo_user, n => 1, model => 'movies', candidates => (SELECT items FROM popular)) top,
     rec.explain(:demo_user, top.item_id, n => 3, model => 'movies') e
JOIN movies m ON m.item_id = e.item_id
ORDER BY e.contribution DESC;
SQL
"
