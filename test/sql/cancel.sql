-- Cancellation: statement_timeout stops training within about a second at any data size, with
-- SQLSTATE 57014, leaves no model behind, and the session trains again afterwards.
SET client_min_messages = warning;
CREATE TABLE big AS
SELECT (g % 100000) AS user_id, (g::bigint * 7919 % 20000) AS item_id, (1 + g % 5)::real AS rating
FROM generate_series(1, 5000000) g;
\set VERBOSITY sqlstate
-- While reading a 5-million-row source.
SET statement_timeout = '300ms';
SELECT clock_timestamp() AS started \gset
CALL rec.train('big', 'big');
RESET statement_timeout;
SELECT clock_timestamp() - :'started' < interval '1.3 s' AS stopped_within_a_second;
-- While solving: a long run on a small source.
SET statement_timeout = '1s';
SELECT clock_timestamp() AS started \gset
CALL rec.train('long', 'ratings', factors => 256, iterations => 100000);
RESET statement_timeout;
SELECT clock_timestamp() - :'started' < interval '2 s' AS stopped_within_a_second;
-- The implicit algorithms too.
SET statement_timeout = '1s';
SELECT clock_timestamp() AS started \gset
CALL rec.train('long_ials', 'ratings', algorithm => 'ials', factors => 256, iterations => 100000);
RESET statement_timeout;
SELECT clock_timestamp() - :'started' < interval '2 s' AS stopped_within_a_second;
SET statement_timeout = '1s';
SELECT clock_timestamp() AS started \gset
CALL rec.train('long_bpr', 'ratings', algorithm => 'bpr', iterations => 100000);
RESET statement_timeout;
SELECT clock_timestamp() - :'started' < interval '2 s' AS stopped_within_a_second;
\set VERBOSITY default
SELECT count(*) AS models_left_behind FROM rec.models WHERE name IN ('big', 'long', 'long_ials', 'long_bpr');
-- The session is healthy and trains again.
CALL rec.train('after_cancel', 'tiny', factors => 2, iterations => 2);
SELECT count(*) FROM rec.models WHERE name = 'after_cancel';
DROP TABLE big;
