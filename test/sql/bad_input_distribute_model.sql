-- The bad-input catalogue of rec.distribute_model: NULL and unknown models, another role's model, and a
-- database without Citus (test/shell/distributed.sh covers a Citus cluster).
SET client_min_messages = warning;
CALL rec.train('bad_distribute', 'tiny', factors => 2, iterations => 2);
SELECT error_of($$SELECT rec.distribute_model(NULL)$$);
SELECT error_of($$SELECT rec.distribute_model('no_such_model')$$);
CREATE ROLE bad_distribute_stranger;
SET ROLE bad_distribute_stranger;
SELECT error_of($$SELECT rec.distribute_model('bad_distribute')$$);
RESET ROLE;
SELECT error_of($$SELECT rec.distribute_model('bad_distribute')$$);
SELECT count(*) AS replicas FROM rec.replicas;
SELECT rec.drop_model('bad_distribute');
DROP ROLE bad_distribute_stranger;
