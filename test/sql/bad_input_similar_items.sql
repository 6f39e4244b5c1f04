-- The bad-input catalogue of rec.similar_items: NULL, unknown and extreme ids; ids of another kind; n.
SET client_min_messages = warning;
CALL rec.train('bad_similar', 'tiny', factors => 2, iterations => 2);
SELECT count(*) AS null_id FROM rec.similar_items(NULL::bigint, 5, 'bad_similar');
SELECT count(*) AS unknown_id FROM rec.similar_items(424242, 5, 'bad_similar');
SELECT count(*) AS smallest_bigint FROM rec.similar_items(-9223372036854775808, 5, 'bad_similar');
SELECT error_of($$SELECT * FROM rec.similar_items('abc', 5, 'bad_similar')$$);
SELECT error_of($$SELECT * FROM rec.similar_items(now(), 5, 'bad_similar')$$);
SELECT error_of($$SELECT * FROM rec.similar_items(10, NULL, 'bad_similar')$$);
SELECT error_of($$SELECT * FROM rec.similar_items(10, -1, 'bad_similar')$$);
SELECT count(*) AS n_zero FROM rec.similar_items(10, 0, 'bad_similar');
SELECT count(*) AS every_other FROM rec.similar_items(10, 2147483647, 'bad_similar');
SELECT error_of($$SELECT * FROM rec.similar_items(10, 5, 'no_such_model')$$);
-- candidates and exclude must be arrays of item ids; NULL elements and unknown ids are ignored.
SELECT error_of($$SELECT * FROM rec.similar_items(10, 5, 'bad_similar', candidates => 11)$$);
SELECT error_of($$SELECT * FROM rec.similar_items(10, 5, 'bad_similar', exclude => 'x'::text)$$);
SELECT count(*) AS nulls_and_unknowns_ignored
FROM rec.similar_items(10, 5, 'bad_similar', candidates => ARRAY[NULL, -1, 11, 12]::bigint[], exclude => ARRAY[NULL]::int[]);
SELECT rec.drop_model('bad_similar');
