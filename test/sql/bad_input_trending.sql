-- The bad-input catalogue of rec.trending: a model without a time column, n, half_life, filters.
SET client_min_messages = warning;
CALL rec.train('bad_trending_untimed', 'tiny', factors => 2, iterations => 2);
SELECT error_of($$SELECT * FROM rec.trending('bad_trending_untimed')$$);
CREATE TABLE tiny_timed AS SELECT *, timestamptz '2020-01-01' + (item_id || ' days')::interval AS at FROM tiny;
CALL rec.train('bad_trending', 'tiny_timed', factors => 2, iterations => 2, time_column => 'at');
SELECT item_id, round(score::numeric, 4) AS score FROM rec.trending('bad_trending', 10, interval '1 day');
-- model NULL: the most recently deployed model, as everywhere.
SELECT count(*) AS null_model_serves_latest FROM rec.trending(NULL);
SELECT error_of($$SELECT * FROM rec.trending('no_such_model')$$);
SELECT error_of($$SELECT * FROM rec.trending('bad_trending', NULL)$$);
SELECT error_of($$SELECT * FROM rec.trending('bad_trending', -1)$$);
SELECT count(*) AS n_zero FROM rec.trending('bad_trending', 0);
SELECT count(*) AS every_item FROM rec.trending('bad_trending', 2147483647);
SELECT error_of($$SELECT * FROM rec.trending('bad_trending', 5, NULL)$$);
SELECT error_of($$SELECT * FROM rec.trending('bad_trending', 5, interval '-1 hour')$$);
SELECT count(*) AS tiny_half_life_rows FROM rec.trending('bad_trending', 5, interval '1 microsecond');
SELECT count(*) AS huge_half_life_rows FROM rec.trending('bad_trending', 5, interval '1000000 years');
SELECT error_of($$SELECT * FROM rec.trending('bad_trending', 5, candidates => 11)$$);
SELECT item_id FROM rec.trending('bad_trending', 5, candidates => ARRAY[NULL, -1, 11, 12]::bigint[],
                                 exclude => ARRAY[12]);
-- The source's time column dropped after training: a clear error, not a crash.
ALTER TABLE tiny_timed DROP COLUMN at;
SELECT error_of($$SELECT * FROM rec.trending('bad_trending', 5, interval '2 days')$$);
SELECT rec.drop_model('bad_trending');
SELECT rec.drop_model('bad_trending_untimed');
DROP TABLE tiny_timed;
