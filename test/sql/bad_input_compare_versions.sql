-- The bad-input catalogue of rec.compare_versions: NULLs, unknown models and sources, a model never
-- deployed, no impressions.
SET client_min_messages = warning;
CALL rec.train('bad_compare', 'tiny', factors => 2, iterations => 2, deploy => false);
CREATE TABLE bad_compare_feedback (user_id int, item_id int, created_at timestamptz);
SELECT error_of($$SELECT * FROM rec.compare_versions('bad_compare', 'bad_compare_feedback')$$);
SELECT rec.deploy('bad_compare', 1);
SELECT error_of($$SELECT * FROM rec.compare_versions(NULL, 'bad_compare_feedback')$$);
SELECT error_of($$SELECT * FROM rec.compare_versions('bad_compare', 'no_such_table')$$);
SELECT error_of($$SELECT * FROM rec.compare_versions('no_such_model', 'bad_compare_feedback')$$);
SELECT error_of($$SELECT * FROM rec.compare_versions('bad_compare', 'bad_compare_feedback', k => -1)$$);
-- Nothing shown yet: the served version alone, with nothing to estimate.
SELECT version, role, impressions, ctr, verdict FROM rec.compare_versions('bad_compare', 'bad_compare_feedback');
DROP TABLE bad_compare_feedback;
SELECT rec.drop_model('bad_compare');
