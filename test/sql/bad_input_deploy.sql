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
-- A/B tests: traffic outside (0, 1], NaN, a test of the version serving everyone, a test with
-- nothing to test against, promote without a test; STRICT: NULL traffic deploys nothing.
CALL rec.train('bad_deploy', 'tiny', factors => 2, iterations => 2);
SELECT error_of($$SELECT rec.deploy('bad_deploy', 1, traffic => 0)$$);
SELECT error_of($$SELECT rec.deploy('bad_deploy', 1, traffic => -0.1)$$);
SELECT error_of($$SELECT rec.deploy('bad_deploy', 1, traffic => 1.5)$$);
SELECT error_of($$SELECT rec.deploy('bad_deploy', 1, traffic => 'NaN')$$);
SELECT error_of($$SELECT rec.deploy('bad_deploy', 2, traffic => 0.1)$$);
SELECT rec.deploy('bad_deploy', 1, traffic => NULL) AS null_traffic;
SELECT error_of($$SELECT rec.promote('bad_deploy')$$);
SELECT error_of($$SELECT rec.promote('no_such_model')$$);
SELECT rec.promote(NULL) AS null_model;
CALL rec.train('bad_deploy_new', 'tiny', factors => 2, iterations => 2, deploy => false);
SELECT error_of($$SELECT rec.deploy('bad_deploy_new', 1, traffic => 0.5)$$);
CALL rec.train('bad_deploy', 'tiny', factors => 2, iterations => 2, deploy => false);
SELECT rec.deploy('bad_deploy', 2, traffic => 0.5) AS test_started;
-- A user id the model's id type cannot read: refused while a test needs it to assign the user.
SELECT error_of($$SELECT rec.served_version('bad_deploy', 'not a number')$$);
SELECT rec.served_version('bad_deploy', NULL::int) AS null_user;
SELECT error_of($$SELECT rec.served_version('no_such_model', 1)$$);
SELECT rec.drop_model('bad_deploy'), rec.drop_model('bad_deploy_new');
