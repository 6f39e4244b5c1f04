-- The bad-input catalogue of rec.because_you_watched: NULL, unknown and extreme ids; ids of another
-- kind; rows and n; filters; rules.
SET client_min_messages = warning;
CALL rec.train('bad_byw', 'tiny', factors => 2, iterations => 2);
SELECT count(*) AS null_user FROM rec.because_you_watched(NULL::bigint, 3, 5, 'bad_byw');
SELECT count(*) AS unknown_user FROM rec.because_you_watched(424242, 3, 5, 'bad_byw');
SELECT count(*) AS smallest_bigint FROM rec.because_you_watched(-9223372036854775808, 3, 5, 'bad_byw');
SELECT error_of($$SELECT * FROM rec.because_you_watched('abc', 3, 5, 'bad_byw')$$);
SELECT error_of($$SELECT * FROM rec.because_you_watched(now(), 3, 5, 'bad_byw')$$);
SELECT error_of($$SELECT * FROM rec.because_you_watched(1, NULL, 5, 'bad_byw')$$);
SELECT error_of($$SELECT * FROM rec.because_you_watched(1, -1, 5, 'bad_byw')$$);
SELECT error_of($$SELECT * FROM rec.because_you_watched(1, 3, NULL, 'bad_byw')$$);
SELECT error_of($$SELECT * FROM rec.because_you_watched(1, 3, -1, 'bad_byw')$$);
-- Huge rows and n: as many rows as the user has anchors with eligible items, each item once.
SELECT count(*) AS rows_returned, count(DISTINCT item_id) AS distinct_items
FROM rec.because_you_watched(3, 2147483647, 2147483647, 'bad_byw');
SELECT error_of($$SELECT * FROM rec.because_you_watched(1, 3, 5, 'no_such_model')$$);
SELECT error_of($$SELECT * FROM rec.because_you_watched(1, 3, 5, 'bad_byw', candidates => 11)$$);
SELECT count(*) AS empty_candidates FROM rec.because_you_watched(1, 3, 5, 'bad_byw', candidates => '{}'::int[]);
SELECT error_of($$SELECT * FROM rec.because_you_watched(1, 3, 5, 'bad_byw', diversity => -0.1)$$);
SELECT error_of($$SELECT * FROM rec.because_you_watched(1, 3, 5, 'bad_byw', per_group_limit => 1)$$);
-- A text-id model: its item ids cannot come back as bigint.
CREATE TEMP TABLE text_items AS SELECT user_id, 'i' || item_id AS item_id, rating FROM tiny;
CALL rec.train('bad_byw_text', 'text_items', factors => 2, iterations => 2);
SELECT error_of($$SELECT * FROM rec.because_you_watched(1, 3, 5, 'bad_byw_text')$$);
SELECT rec.drop_model('bad_byw');
SELECT rec.drop_model('bad_byw_text');
