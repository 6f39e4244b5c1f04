-- The bad-input catalogue of rec.explain: NULL and unknown users and items, ids of another kind, n,
-- models it cannot explain.
SET client_min_messages = warning;
CALL rec.train('bad_explain', 'tiny', factors => 2, iterations => 2);
SELECT count(*) AS null_user FROM rec.explain(NULL::bigint, 10, 3, 'bad_explain');
SELECT count(*) AS null_item FROM rec.explain(1, NULL::bigint, 3, 'bad_explain');
SELECT count(*) AS unknown_user FROM rec.explain(424242, 10, 3, 'bad_explain');
SELECT count(*) AS unknown_item FROM rec.explain(1, 424242, 3, 'bad_explain');
SELECT error_of($$SELECT * FROM rec.explain(1, 10, NULL, 'bad_explain')$$);
SELECT error_of($$SELECT * FROM rec.explain(1, 10, -1, 'bad_explain')$$);
SELECT count(*) AS n_zero FROM rec.explain(1, 10, 0, 'bad_explain');
SELECT count(*) AS every_seen_item FROM rec.explain(1, 12, 2147483647, 'bad_explain');
SELECT error_of($$SELECT * FROM rec.explain('abc', 10, 3, 'bad_explain')$$);
SELECT error_of($$SELECT * FROM rec.explain(1, 'abc', 3, 'bad_explain')$$);
SELECT error_of($$SELECT * FROM rec.explain(1, 10, 3, 'no_such_model')$$);
SELECT error_of($$SELECT * FROM rec.explain(1, 10, 3, 'filters_bpr')$$);
SELECT rec.drop_model('bad_explain');
