-- examples/streaming/setup.sql: the database behind the streaming home page (README.md).
-- Loads MovieLens latest-small, holds the "new releases" out of training, builds the item features
-- and genre groups, trains the model 'home' and defines streaming.home_page(user), the page recipe.
--   psql -X -v data=/path/to/ml-latest-small -f examples/streaming/setup.sql
-- Files are read with psql's \copy (client side), so the server needs no access to them.
-- Re-running it replaces schema streaming and adds a new version of the model.
\set ON_ERROR_STOP on
\if :{?data}
\else
\set data data/ml-latest-small
\endif
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_recommend;
DROP SCHEMA IF EXISTS streaming CASCADE;
CREATE SCHEMA streaming;

-- Raw files. \copy takes no variables, so each command is built in a variable and run from it.
CREATE TEMP TABLE movies_csv (item_id int, title text, genres text);
CREATE TEMP TABLE ratings_csv (user_id int, item_id int, rating real, ts bigint);
CREATE TEMP TABLE tags_csv (user_id int, item_id int, tag text, ts bigint);
\set movies_file :data '/movies.csv'
\set ratings_file :data '/ratings.csv'
\set tags_file :data '/tags.csv'
\set copy_movies '\\copy movies_csv FROM ' :'movies_file' ' WITH (FORMAT csv, HEADER true)'
\set copy_ratings '\\copy ratings_csv FROM ' :'ratings_file' ' WITH (FORMAT csv, HEADER true)'
\set copy_tags '\\copy tags_csv FROM ' :'tags_file' ' WITH (FORMAT csv, HEADER true)'
:copy_movies
:copy_ratings
:copy_tags

-- The catalogue. MovieLens titles end in the release year ("Matrix, The (1999)"): the year becomes a
-- column, and "X, The" is shown as "The X".
CREATE TABLE streaming.movies (
    item_id int PRIMARY KEY,
    title   text NOT NULL,   -- display title, year removed
    year    int,             -- release year from the title; NULL for the few without one
    genres  text NOT NULL);  -- 'Adventure|Animation|...' as in movies.csv
INSERT INTO streaming.movies
SELECT item_id,
       regexp_replace(regexp_replace(title, '\s*\(\d{4}[^)]*\)\s*$', ''),
                      '^(.*?), (The|A|An)( \(.*\))?$', '\2 \1\3'),
       substring(title FROM '\((\d{4})[^)]*\)\s*$')::int,
       genres
FROM movies_csv;

-- Groups for rec.recommend's per_group_limit: one row per (movie, genre).
CREATE TABLE streaming.movie_genres (item_id int NOT NULL, genre text NOT NULL, PRIMARY KEY (item_id, genre));
INSERT INTO streaming.movie_genres
SELECT DISTINCT item_id, g FROM streaming.movies, unnest(string_to_array(genres, '|')) g
WHERE g <> '(no genres listed)';

-- New releases: the 30 most recent films by release year that have at least 5 ratings (exactly the
-- 2017 and 2018 films with 5 or more). ALL their ratings are held out of training, as if they had
-- just been added to the catalogue: the model knows them only by their features (cold start).
-- At least 5 ratings, so that they are films people actually watched, not obscure one-off entries.
CREATE TABLE streaming.new_releases AS
SELECT m.item_id
FROM streaming.movies m JOIN (SELECT item_id, count(*) AS n FROM ratings_csv GROUP BY item_id) c USING (item_id)
WHERE c.n >= 5 AND m.year IS NOT NULL
ORDER BY m.year DESC, c.n DESC, m.item_id
LIMIT 30;
ALTER TABLE streaming.new_releases ADD PRIMARY KEY (item_id);

-- The training source: every rating except those of the new releases.
CREATE TABLE streaming.ratings (user_id int NOT NULL, item_id int NOT NULL, rating real NOT NULL, ts timestamptz NOT NULL);
INSERT INTO streaming.ratings
SELECT user_id, item_id, rating, to_timestamp(ts) FROM ratings_csv
WHERE item_id NOT IN (SELECT item_id FROM streaming.new_releases);
CREATE INDEX ON streaming.ratings (user_id);   -- the page looks up what the user has seen

-- Item features (first column the item, second the feature, third its weight): genres, release
-- decade, and user tags. Only tags found on at least 2 films: a tag on one film says nothing
-- about any other. Tags get half a genre's weight, as they are free text and noisier.
CREATE TABLE streaming.movie_features (item_id int NOT NULL, feature text NOT NULL, weight real NOT NULL);
INSERT INTO streaming.movie_features
SELECT item_id, 'genre:' || genre, 1.0 FROM streaming.movie_genres
UNION ALL
SELECT item_id, 'year:' || (year / 10 * 10) || 's', 1.0 FROM streaming.movies WHERE year IS NOT NULL
UNION ALL
SELECT item_id, 'tag:' || tag, 0.5
FROM (SELECT DISTINCT item_id, lower(btrim(tag)) AS tag FROM tags_csv) t
WHERE tag <> '' AND tag IN (SELECT lower(btrim(tag)) FROM tags_csv GROUP BY 1 HAVING count(DISTINCT item_id) >= 2)
  AND item_id IN (SELECT item_id FROM streaming.movies);
CREATE INDEX ON streaming.movie_features (item_id);
ANALYZE streaming.movies, streaming.movie_genres, streaming.new_releases, streaming.ratings, streaming.movie_features;

-- Implicit feedback (a rating says the user watched the film; a higher one counts more), recent
-- ratings weighing more (a year's half-life), and the features, which give the held-out new releases
-- their factors.
CALL rec.train(model => 'home', source => 'streaming.ratings', user_column => 'user_id',
               item_column => 'item_id', rating_column => 'rating', algorithm => 'ials',
               factors => 32, regularization => 5, alpha => 1,
               time_column => 'ts', half_life => interval '365 days',
               item_features => 'streaming.movie_features');

-- The page recipe: every row of the home page of user p_user, in page order, in one call.
-- Each row leaves out every item shown in the rows above it (exclude), so no film appears twice.
CREATE FUNCTION streaming.home_page(p_user int, p_model text DEFAULT 'home')
RETURNS TABLE (row_no int, row_kind text, row_title text, anchor_item int, "position" int,
               item_id int, title text, year int, genres text, score real)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    shown bigint[] := '{}';   -- items on the page so far
    ids   bigint[];
    scores real[];
    anchors bigint[];
    ranks  int[];
    rownum int := 1;
BEGIN
    -- 1. Top picks: the user's best, at most 2 per genre, with some diversity (MMR).
    SELECT array_agg(r.item_id ORDER BY r.ord), array_agg(r.score ORDER BY r.ord) INTO ids, scores
    FROM rec.recommend(p_user, n => 10, model => p_model, diversity => 0.3,
                       group_table => 'streaming.movie_genres', per_group_limit => 2)
         WITH ORDINALITY AS r(item_id, score, ord);
    RETURN QUERY
    SELECT rownum, 'top-picks', 'Top picks for you', NULL::int, u.ord::int, m.item_id, m.title, m.year, m.genres, u.score
    FROM unnest(ids, scores) WITH ORDINALITY AS u(item_id, score, ord) JOIN streaming.movies m ON m.item_id = u.item_id
    ORDER BY u.ord;
    rownum := rownum + 1;
    shown := shown || coalesce(ids, '{}');

    -- 2. Up to 3 rows "Because you watched <title>", one per anchor (the user's strongest films), in
    -- the order the anchors come; the function leaves out seen items and earlier rows' items itself.
    SELECT array_agg(b.anchor_item ORDER BY b.ord), array_agg(b.rank ORDER BY b.ord),
           array_agg(b.item_id ORDER BY b.ord), array_agg(b.score ORDER BY b.ord)
      INTO anchors, ranks, ids, scores
    FROM rec.because_you_watched(p_user, rows => 3, n => 10, model => p_model, exclude => shown)
         WITH ORDINALITY AS b(anchor_item, rank, item_id, score, ord);
    RETURN QUERY
    WITH b AS (SELECT * FROM unnest(anchors, ranks, ids, scores) WITH ORDINALITY AS u(anchor, rank, item_id, score, ord)),
         a AS (SELECT anchor, row_number() OVER (ORDER BY min(ord)) AS pos FROM b GROUP BY anchor)
    SELECT rownum + a.pos::int - 1, 'because-you-watched', 'Because you watched ' || am.title, a.anchor::int,
           b.rank, m.item_id, m.title, m.year, m.genres, b.score
    FROM b JOIN a USING (anchor)
    JOIN streaming.movies am ON am.item_id = b.anchor
    JOIN streaming.movies m ON m.item_id = b.item_id
    ORDER BY a.pos, b.rank;
    rownum := rownum + (SELECT count(DISTINCT x) FROM unnest(anchors) x)::int;
    shown := shown || coalesce(ids, '{}');

    -- 3. Trending now: most watched lately, leaving out what the user has already seen.
    SELECT array_agg(t.item_id ORDER BY t.ord), array_agg(t.score ORDER BY t.ord) INTO ids, scores
    FROM rec.trending(p_model, n => 10, half_life => interval '30 days',
                      exclude => shown || ARRAY(SELECT r.item_id::bigint FROM streaming.ratings r WHERE r.user_id = p_user))
         WITH ORDINALITY AS t(item_id, score, ord);
    RETURN QUERY
    SELECT rownum, 'trending', 'Trending now', NULL::int, u.ord::int, m.item_id, m.title, m.year, m.genres, u.score
    FROM unnest(ids, scores) WITH ORDINALITY AS u(item_id, score, ord) JOIN streaming.movies m ON m.item_id = u.item_id
    ORDER BY u.ord;
    rownum := rownum + 1;
    shown := shown || coalesce(ids, '{}');

    -- 4. New releases for you: the held-out films, ranked for the user from their features alone.
    SELECT array_agg(r.item_id ORDER BY r.ord), array_agg(r.score ORDER BY r.ord) INTO ids, scores
    FROM rec.recommend(p_user, n => 10, model => p_model,
                       candidates => ARRAY(SELECT n.item_id::bigint FROM streaming.new_releases n), exclude => shown)
         WITH ORDINALITY AS r(item_id, score, ord);
    RETURN QUERY
    SELECT rownum, 'new-releases', 'New releases for you', NULL::int, u.ord::int, m.item_id, m.title, m.year, m.genres, u.score
    FROM unnest(ids, scores) WITH ORDINALITY AS u(item_id, score, ord) JOIN streaming.movies m ON m.item_id = u.item_id
    ORDER BY u.ord;
END
$$;
COMMENT ON FUNCTION streaming.home_page IS 'the rows of a user''s streaming home page, in page order, no film twice';
