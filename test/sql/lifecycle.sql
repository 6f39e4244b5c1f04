-- Versions and deployment: every training adds a version; rec.deploy / rec.rollback choose the one
-- served, transactionally; rec.prune removes old versions.
SET client_min_messages = warning;
-- Two versions that predict differently (different seeds).
CALL rec.train('life', 'ratings', factors => 8, iterations => 3, seed => 1);
CALL rec.train('life', 'ratings', factors => 8, iterations => 3, seed => 2);
SELECT version, deployed FROM rec.models WHERE name = 'life' ORDER BY version;
CREATE TEMP TABLE by_version AS
SELECT v.version, (SELECT sum(r.score) FROM rec.recommend(1, 5, 'life') r) AS score_sum
FROM (VALUES (2)) v(version);

-- Deploy version 1: it is served from the next call on.
SELECT rec.deploy('life', 1);
INSERT INTO by_version SELECT 1, sum(score) FROM rec.recommend(1, 5, 'life');
SELECT count(DISTINCT score_sum) AS versions_differ FROM by_version;
SELECT version, deployed FROM rec.models WHERE name = 'life' ORDER BY version;
CREATE FUNCTION served_version() RETURNS integer LANGUAGE sql AS $$
    SELECT b.version FROM by_version b
    WHERE b.score_sum = (SELECT sum(score) FROM rec.recommend(1, 5, 'life')) $$;
SELECT served_version();

-- A deploy or a rollback inside a transaction that is rolled back leaves serving unchanged; inside the
-- transaction the new choice is already served.
BEGIN;
SELECT rec.deploy('life', 2);
SELECT served_version() AS inside_transaction;
ROLLBACK;
SELECT served_version() AS after_rollback_of_deploy;
BEGIN;
SELECT rec.rollback('life');
SELECT served_version() AS inside_transaction;
ROLLBACK;
SELECT served_version() AS after_rollback_of_rollback;

-- rollback walks back through the deployment history: version 1 (deploy) was preceded by version 2
-- (deployed by training), which was preceded by version 1 (deployed by training); then nothing.
SELECT rec.rollback('life') AS now_serving;
SELECT served_version();
SELECT rec.rollback('life') AS now_serving;
SELECT served_version();
SELECT error_of($$SELECT rec.rollback('life')$$);
SELECT served_version() AS unchanged_by_failed_rollback;

-- deploy => false: a new version that is not served until deployed.
CALL rec.train('life', 'ratings', factors => 8, iterations => 3, seed => 3, deploy => false);
SELECT version, deployed FROM rec.models WHERE name = 'life' ORDER BY version;
SELECT served_version() AS still_serving;

-- prune keeps the newest `keep` versions and the deployed one.
SELECT rec.prune('life', keep => 1) AS pruned;
SELECT version, deployed FROM rec.models WHERE name = 'life' ORDER BY version;
SELECT served_version() AS served_after_prune;

-- A model whose only version was never deployed is refused with a hint; deploying it serves it.
CALL rec.train('undeployed', 'tiny', factors => 2, iterations => 2, deploy => false);
SELECT error_of($$SELECT * FROM rec.recommend(1, 1, 'undeployed')$$);
SELECT rec.deploy('undeployed', 1);
SELECT count(*) FROM rec.recommend(1, 1, 'undeployed');

-- Bad arguments.
SELECT error_of($$SELECT rec.deploy('life', 99)$$);
SELECT error_of($$SELECT rec.deploy('no_such_model', 1)$$);
SELECT error_of($$SELECT rec.rollback('no_such_model')$$);
SELECT error_of($$SELECT rec.prune('life', keep => 0)$$);
SELECT rec.deploy(NULL, 1) IS NULL AS null_model, rec.prune('life', NULL) IS NULL AS null_keep;
SELECT error_of($$CALL rec.train('life', 'ratings', deploy => NULL)$$);

-- drop_model removes the deployment history too.
SELECT rec.drop_model('life'), rec.drop_model('undeployed');
SELECT count(*) AS deployments_left FROM rec.deployments WHERE name IN ('life', 'undeployed');
