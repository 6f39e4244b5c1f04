-- The bad-input catalogue of rec.similar_users: NULL, unknown and extreme ids; ids of another kind; n.
SET client_min_messages = warning;
CALL rec.train('bad_similar', 'tiny', factors => 2, iterations => 2);
SELECT count(*) AS null_id FROM rec.similar_users(NULL::bigint, 5, 'bad_similar');
SELECT count(*) AS unknown_id FROM rec.similar_users(424242, 5, 'bad_similar');
SELECT count(*) AS smallest_bigint FROM rec.similar_users(-9223372036854775808, 5, 'bad_similar');
SELECT error_of($$SELECT * FROM rec.similar_users('abc', 5, 'bad_similar')$$);
SELECT error_of($$SELECT * FROM rec.similar_users(now(), 5, 'bad_similar')$$);
SELECT error_of($$SELECT * FROM rec.similar_users(1, NULL, 'bad_similar')$$);
SELECT error_of($$SELECT * FROM rec.similar_users(1, -1, 'bad_similar')$$);
SELECT count(*) AS n_zero FROM rec.similar_users(1, 0, 'bad_similar');
SELECT count(*) AS every_other FROM rec.similar_users(1, 2147483647, 'bad_similar');
SELECT error_of($$SELECT * FROM rec.similar_users(1, 5, 'no_such_model')$$);
SELECT rec.drop_model('bad_similar');
