-- The bad-input catalogue of rec.predict: NULL ids give NULL, unknown ids the baseline, ids of another
-- kind an error; ratings stay within the training range.
SET client_min_messages = warning;
CALL rec.train('bad_predict', 'tiny', factors => 2, iterations => 2);
SELECT rec.predict(NULL::bigint, 10, 'bad_predict') AS null_user, rec.predict(1, NULL::bigint, 'bad_predict') AS null_item;
SELECT round(rec.predict(424242, 424242, 'bad_predict')::numeric, 4) = round(avg(rating), 4) AS unknown_both_is_the_mean
FROM tiny;
SELECT rec.predict(-9223372036854775808, 9223372036854775807, 'bad_predict') BETWEEN 1 AND 5 AS extreme_ids_in_range;
SELECT error_of($$SELECT rec.predict('abc', 10, 'bad_predict')$$);
SELECT error_of($$SELECT rec.predict(1, 'abc', 'bad_predict')$$);
SELECT error_of($$SELECT rec.predict(1, now(), 'bad_predict')$$);
SELECT error_of($$SELECT rec.predict(1, 10, 'no_such_model')$$);
SELECT error_of($$SELECT rec.predict(1, 10, '')$$);
SELECT rec.drop_model('bad_predict');
