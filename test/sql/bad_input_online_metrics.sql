-- The bad-input catalogue of rec.online_metrics: NULLs, unknown sources and columns, columns of the
-- wrong type, k and click_window out of range, unknown models.
SET client_min_messages = warning;
CALL rec.train('bad_online', 'tiny', factors => 2, iterations => 2);
CREATE TABLE bad_online_feedback (user_id int, item_id int, created_at timestamptz, label text);
SELECT error_of($$SELECT * FROM rec.online_metrics(NULL, 'bad_online_feedback')$$);
SELECT error_of($$SELECT * FROM rec.online_metrics('bad_online', NULL)$$);
SELECT error_of($$SELECT * FROM rec.online_metrics('bad_online', 'no_such_table')$$);
SELECT error_of($$SELECT * FROM rec.online_metrics('bad_online', 'bad_online_feedback', since => NULL)$$);
SELECT error_of($$SELECT * FROM rec.online_metrics('bad_online', 'bad_online_feedback', k => 0)$$);
SELECT error_of($$SELECT * FROM rec.online_metrics('bad_online', 'bad_online_feedback', k => NULL)$$);
SELECT error_of($$SELECT * FROM rec.online_metrics('bad_online', 'bad_online_feedback', user_column => 'nope')$$);
SELECT error_of($$SELECT * FROM rec.online_metrics('bad_online', 'bad_online_feedback', item_column => NULL)$$);
SELECT error_of($$SELECT * FROM rec.online_metrics('bad_online', 'bad_online_feedback', time_column => 'label')$$);
SELECT error_of($$SELECT * FROM rec.online_metrics('bad_online', 'bad_online_feedback', click_window => interval '-1 hour')$$);
SELECT error_of($$SELECT * FROM rec.online_metrics('bad_online', 'bad_online_feedback', click_window => NULL)$$);
SELECT error_of($$SELECT * FROM rec.online_metrics('no_such_model', 'bad_online_feedback')$$);
SELECT error_of($$SELECT * FROM rec.online_metrics('bad_online', 'rec.model_id_seq')$$);
-- Nothing logged yet: no rows, no error.
SELECT count(*) AS versions FROM rec.online_metrics('bad_online', 'bad_online_feedback');
-- A huge k counts every item shown; an epoch-seconds time column works as a timestamp does.
SELECT rec.log_impressions('bad_online', 1, ARRAY[10, 11]);
INSERT INTO bad_online_feedback VALUES (1, 11, clock_timestamp() + interval '1 second', 'x');
CREATE VIEW bad_online_epoch AS SELECT user_id, item_id, extract(epoch FROM created_at) AS at FROM bad_online_feedback;
SELECT version, impressions, clicks, mrr FROM rec.online_metrics('bad_online', 'bad_online_feedback', k => 2147483647);
SELECT version, impressions, clicks, mrr FROM rec.online_metrics('bad_online', 'bad_online_epoch', time_column => 'at');
DROP VIEW bad_online_epoch;
DROP TABLE bad_online_feedback;
SELECT rec.drop_model('bad_online');
