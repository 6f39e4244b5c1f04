-- Models are ordinary, durable tables; training reads with the caller's rights and row-level
-- security; only pg_recommend writes the model tables; only a model's owner may drop it.
BEGIN;
SELECT plan(46);
SET LOCAL client_min_messages = warning;

SELECT has_table('rec', 'model_versions', 'model versions are stored in a table');
SELECT has_table('rec', 'user_factors', 'user factors are stored in a table');
SELECT has_table('rec', 'item_factors', 'item factors are stored in a table');
SELECT has_table('rec', 'deployments', 'the deployment history is stored in a table');
SELECT has_table('rec', 'feature_weights', 'the item-feature maps of versions are stored in a table');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'rec.feature_weights'::regclass),
          'feature weights are readable only as their model is (row-level security)');
SELECT has_table('rec', 'item_weights', 'the weights of item-item models are stored in a table');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'rec.item_weights'::regclass),
          'item weights are readable only as their model is (row-level security)');
SELECT has_table('rec', 'impressions', 'the lists shown to users are stored in a table');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'rec.impressions'::regclass),
          'impressions are readable only as their model is (row-level security)');
SELECT is((SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'rec' AND c.relkind = 'r' AND c.relpersistence = 'p'), 9,
          'the model tables are WAL-logged (not unlogged or temporary), so they survive crashes and replicate');
SELECT is((SELECT cardinality(extconfig) FROM pg_extension WHERE extname = 'pg_recommend'), 10,
          'model tables and their sequences are marked for pg_dump');

CREATE TABLE plays (user_id int, item_id int, rating int, region text);
INSERT INTO plays SELECT u, i, 1 + (u * i) % 5, CASE WHEN u <= 20 THEN 'eu' ELSE 'us' END
FROM generate_series(1, 40) u, generate_series(1, 30) i WHERE (u + i) % 3 = 0;
CREATE ROLE rec_alice;
CREATE ROLE rec_bob;
GRANT SELECT ON plays TO rec_alice;
ALTER TABLE plays ENABLE ROW LEVEL SECURITY;
CREATE POLICY eu_only ON plays FOR SELECT TO rec_alice USING (region = 'eu');

SET LOCAL ROLE rec_alice;
SELECT lives_ok($$CALL rec.train('alice_model', 'plays', factors => 4, iterations => 2)$$,
                'a role without any right on rec tables can train');
SELECT is((SELECT n_users FROM rec.models WHERE name = 'alice_model'), 20,
          'row-level security hides rows from training');
SELECT is((SELECT owner::text FROM rec.models WHERE name = 'alice_model'), 'rec_alice',
          'the model records who trained it');
SELECT is((SELECT count(*)::int FROM rec.recommend(1, 5, 'alice_model')), 5, 'the owner can serve it');
SELECT throws_ok($$INSERT INTO rec.user_factors VALUES (1, 1, 0, '{}', '{}')$$, '42501', NULL,
                 'users cannot write model tables directly');
SELECT throws_ok($$DELETE FROM rec.model_versions$$, '42501', NULL, 'users cannot delete model rows directly');
SELECT throws_ok($$INSERT INTO rec.impressions VALUES ('alice_model', 1, '1', '{1}', now(), 'recommend')$$, '42501',
                 NULL, 'nor write impressions directly, even of their own model (only pg_recommend does)');
SELECT throws_ok($$INSERT INTO rec.replicas VALUES (1, 0, 'x', 'y', 'integer', 1)$$, '42501', NULL,
                 'nor claim that a version is installed on Citus workers (only rec.distribute_model does)');
SELECT throws_ok($$SELECT rec.install_replica('{}', '[]', '[]', '[]', 1)$$, '42501', NULL,
                 'nor run the install that rec.distribute_model runs on workers');

SET LOCAL ROLE rec_bob;
SELECT throws_ok($$CALL rec.train('bob_model', 'plays')$$, '42501', NULL,
                 'a role without SELECT on the source gets 42501');
SELECT throws_ok($$SELECT rec.drop_model('alice_model')$$, '42501', NULL,
                 'another role cannot drop the model');
SELECT throws_ok($$SELECT rec.deploy('alice_model', 1)$$, '42501', NULL, 'nor deploy a version of it');
SELECT throws_ok($$SELECT rec.rollback('alice_model')$$, '42501', NULL, 'nor roll it back');
SELECT throws_ok($$SELECT rec.prune('alice_model', 1)$$, '42501', NULL, 'nor prune it');
SELECT throws_ok($$SELECT rec.promote('alice_model')$$, '42501', NULL, 'nor promote a challenger');
SELECT throws_ok($$SELECT rec.refresh_users('alice_model', ARRAY[1])$$, '42501', NULL, 'nor refresh it');
SELECT throws_ok($$INSERT INTO rec.deployments (name, model_id, deployed_by) VALUES ('alice_model', 1, 'rec_bob')$$,
                 '42501', NULL, 'nor write the deployment history directly');
-- Models are private to their owner until granted.
SELECT throws_ok($$SELECT * FROM rec.recommend(1, 5, 'alice_model')$$, '42501', NULL,
                 'another role cannot serve a model not granted to it');
SELECT throws_ok($$SELECT rec.predict(1, 1, 'alice_model')$$, '42501', NULL, 'nor predict with it');
SELECT is((SELECT count(*)::int FROM rec.user_factors) + (SELECT count(*)::int FROM rec.item_factors) +
          (SELECT count(*)::int FROM rec.models) + (SELECT count(*)::int FROM rec.deployments), 0,
          'nor read any of its rows, its version or its deployment');
SELECT throws_ok($$SELECT rec.grant('alice_model', 'rec_bob')$$, '42501', NULL, 'nor grant it to itself');
RESET ROLE;
GRANT SELECT ON plays TO rec_bob;
SET LOCAL ROLE rec_bob;
SELECT throws_ok($$CALL rec.train('alice_model', 'plays', factors => 4, iterations => 2)$$, '42501',
                 'must be owner of model "alice_model" to train a new version of it',
                 'nor train (and deploy) a new version under her model''s name');
SELECT is((SELECT count(*)::int FROM rec.recommend(NULL::int, 5)), 0, 'the newest model it may read is none of hers');

SET LOCAL ROLE rec_alice;
SELECT is(rec.grant('alice_model', 'rec_bob'), 1, 'the owner grants the model to bob');
SET LOCAL ROLE rec_bob;
SELECT is((SELECT count(*)::int FROM rec.recommend(1, 5, 'alice_model')), 5, 'bob may serve it now');
SELECT is((SELECT count(*)::int FROM rec.user_factors), 20, 'and read its rows');
SELECT throws_ok($$SELECT rec.drop_model('alice_model')$$, '42501', NULL, 'but still not drop it');
SET LOCAL ROLE rec_alice;
SELECT is(rec.revoke('alice_model', 'rec_bob'), 1, 'the owner revokes it');
SET LOCAL ROLE rec_bob;
SELECT throws_ok($$SELECT * FROM rec.recommend(1, 5, 'alice_model')$$, '42501', NULL,
                 'bob may no longer serve it, although its copy is cached');
SET LOCAL ROLE rec_alice;
SELECT is(rec.grant('alice_model', 'public'), 1, 'granted to PUBLIC');
SET LOCAL ROLE rec_bob;
SELECT is((SELECT count(*)::int FROM rec.recommend(1, 5, 'alice_model')), 5, 'every role may serve it');

SET LOCAL ROLE rec_alice;
SELECT is(rec.drop_model('alice_model'), 1, 'the owner can drop the model');
SELECT is((SELECT count(*)::int FROM rec.user_factors uf WHERE NOT EXISTS
           (SELECT 1 FROM rec.model_versions v WHERE v.model_id = uf.model_id)), 0,
          'dropping leaves no orphaned factor rows');
SELECT is((SELECT count(*)::int FROM rec.model_grants WHERE name = 'alice_model'), 0,
          'and no grants: a new model of that name starts private');

RESET ROLE;
SELECT * FROM finish();
ROLLBACK;
