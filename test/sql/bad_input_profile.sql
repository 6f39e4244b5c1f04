-- The bad-input catalogue of rec.profile: NULL and unknown names, columns of the wrong type.
SET client_min_messages = warning;
SELECT error_of($$SELECT * FROM rec.profile(NULL)$$);
SELECT error_of($$SELECT * FROM rec.profile('no_such_table')$$);
SELECT error_of($$SELECT * FROM rec.profile('ratings; DROP TABLE ratings')$$);
SELECT error_of($$SELECT * FROM rec.profile('ratings', user_column => NULL)$$);
SELECT error_of($$SELECT * FROM rec.profile('ratings', item_column => 'no_such_column')$$);
SELECT error_of($$SELECT * FROM rec.profile('movies', user_column => 'item_id', item_column => 'item_id', rating_column => 'title')$$);
SELECT error_of($$SELECT * FROM rec.profile('movies', user_column => 'item_id', item_column => 'item_id', rating_column => NULL, time_column => 'title')$$);
SELECT error_of($$SELECT * FROM rec.profile('movies', user_column => 'title', item_column => 'item_id', rating_column => NULL)$$) AS text_ids_are_fine;
SELECT count(*) > 0 AS text_ids_profiled FROM rec.profile('movies', user_column => 'title', item_column => 'item_id', rating_column => NULL);
-- Infinite times are counted as rows, not refused; the span then says so.
CREATE TABLE odd_times (user_id int, item_id int, rating real, at timestamptz);
INSERT INTO odd_times VALUES (1, 1, 1, 'infinity'), (1, 2, 1, '2020-01-01'), (2, 1, 1, NULL);
SELECT finding, severity, value FROM rec.profile('odd_times', time_column => 'at')
WHERE finding IN ('rows', 'NULL times', 'future timestamps');
DROP TABLE odd_times;
