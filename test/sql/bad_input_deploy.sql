-- The bad-input catalogue of rec.deploy: versions that do not exist, NULLs, unknown models.
SET client_min_messages = warning;
CALL rec.train('bad_deploy', 'tiny', factors => 2, iterations => 2);
SELECT error_of($$SELECT rec.deploy('bad_deploy', 0)$$);
SELECT error_of($$SELECT rec.deploy('bad_deploy', 2)$$);
SELECT error_of($$SELECT rec.deploy('bad_deploy', -2147483648)$$);
-- STRICT: a NULL argument returns NULL and deploys nothing.
SELECT rec.deploy('bad_deploy', NULL) AS null_version, rec.deploy(NULL, 1) AS null_model;
SELECT error_of($$SELECT rec.deploy('no_such_model', 1)$$);
SELECT rec.deploy('bad_deploy', 1) AS redeploying_the_deployed_version;
SELECT rec.drop_model('bad_deploy');
