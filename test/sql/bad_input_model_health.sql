-- The bad-input catalogue of rec.model_health: NULL, unknown models, a model never deployed, a
-- source dropped since training.
SET client_min_messages = warning;
SELECT error_of($$SELECT * FROM rec.model_health(NULL)$$);
SELECT error_of($$SELECT * FROM rec.model_health('no_such_model')$$);
CALL rec.train('bad_health', 'tiny', factors => 2, iterations => 2, deploy => false);
SELECT error_of($$SELECT * FROM rec.model_health('bad_health')$$);
CREATE TABLE bad_health_source AS SELECT * FROM tiny;
CALL rec.train('bad_health', 'bad_health_source', factors => 2, iterations => 2);
DROP TABLE bad_health_source;
SELECT error_of($$SELECT * FROM rec.model_health('bad_health')$$);
SELECT rec.drop_model('bad_health');
