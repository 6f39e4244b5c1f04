-- Shared fixtures for the regression tests that follow (they run in this order, in one database).
\getenv abs_srcdir PG_ABS_SRCDIR
\set data_dir :abs_srcdir '/../data/ml-latest-small'
\set ratings_csv :data_dir '/ratings.csv'
\set movies_csv :data_dir '/movies.csv'

CREATE TABLE ratings (user_id integer, item_id integer, rating real, ts bigint);
COPY ratings FROM :'ratings_csv' WITH (FORMAT csv, HEADER true);
CREATE TABLE movies (item_id integer PRIMARY KEY, title text, genres text);
COPY movies FROM :'movies_csv' WITH (FORMAT csv, HEADER true);
SELECT count(*) AS ratings, count(DISTINCT user_id) AS users, count(DISTINCT item_id) AS items FROM ratings;

-- The SQLSTATE and message of a statement's error, for asserting errors compactly.
CREATE FUNCTION error_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- A tiny data set whose answers can be checked by hand.
CREATE TABLE tiny (user_id bigint, item_id bigint, rating numeric);
INSERT INTO tiny VALUES (1, 10, 5), (1, 11, 3), (2, 10, 4), (2, 12, 1), (3, 11, 2), (3, 12, 5), (3, 13, 4);
