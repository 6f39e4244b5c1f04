-- The bad-input catalogue of rec.promote: NULL, unknown models, no test under way, not the owner.
SET client_min_messages = warning;
CALL rec.train('bad_promote', 'tiny', factors => 2, iterations => 2);
CALL rec.train('bad_promote', 'tiny', factors => 2, iterations => 2, deploy => false);
SELECT rec.promote(NULL) AS null_model;
SELECT error_of($$SELECT rec.promote('no_such_model')$$);
SELECT error_of($$SELECT rec.promote('bad_promote')$$);
SELECT rec.deploy('bad_promote', 2, traffic => 0.3);
CREATE ROLE bad_promote_stranger;
SET ROLE bad_promote_stranger;
SELECT error_of($$SELECT rec.promote('bad_promote')$$);
RESET ROLE;
DROP ROLE bad_promote_stranger;
SELECT rec.promote('bad_promote') AS promoted;
SELECT error_of($$SELECT rec.promote('bad_promote')$$) AS twice;
SELECT version, deployed, traffic FROM rec.models WHERE name = 'bad_promote' ORDER BY version;
SELECT rec.drop_model('bad_promote');
