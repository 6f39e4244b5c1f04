-- The bad-input catalogue of rec.recommend_all: n, target names, unknown models.
SET client_min_messages = warning;
CALL rec.train('bad_all', 'tiny', factors => 2, iterations => 2);
SELECT error_of($$SELECT rec.recommend_all('bad_all', NULL, 'bad_all_recs')$$);
SELECT error_of($$SELECT rec.recommend_all('bad_all', -1, 'bad_all_recs')$$);
SELECT rec.recommend_all('bad_all', 0, 'bad_all_zero') AS n_zero_rows;
SELECT rec.recommend_all('bad_all', 2147483647, 'bad_all_every') AS every_unseen_pair;
SELECT error_of($$SELECT rec.recommend_all('bad_all', 5, NULL)$$);
SELECT error_of($$SELECT rec.recommend_all('bad_all', 5, '')$$);
SELECT error_of($$SELECT rec.recommend_all('bad_all', 5, 'tiny')$$);
SELECT error_of($$SELECT rec.recommend_all('bad_all', 5, 'bad_x; DROP TABLE tiny')$$);
SELECT error_of($$SELECT rec.recommend_all('bad_all', 5, 'no_such_schema.bad_all_recs')$$);
SELECT error_of($$SELECT rec.recommend_all('no_such_model', 5, 'bad_all_recs')$$);
-- model => NULL: the most recently deployed model, as for rec.recommend.
SELECT rec.recommend_all(NULL, 5, 'bad_all_default') AS default_model_rows;
DROP TABLE bad_all_default;
SELECT count(*) AS tiny_still_there FROM tiny;
DROP TABLE bad_all_zero, bad_all_every;
SELECT rec.drop_model('bad_all');
