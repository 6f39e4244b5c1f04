-- The bad-input catalogue of rec.prune: keep NULL, 0, negative and huge; unknown models.
SET client_min_messages = warning;
CALL rec.train('bad_prune', 'tiny', factors => 2, iterations => 2);
CALL rec.train('bad_prune', 'tiny', factors => 2, iterations => 2, deploy => false);
CALL rec.train('bad_prune', 'tiny', factors => 2, iterations => 2, deploy => false);
-- STRICT: a NULL argument returns NULL and prunes nothing.
SELECT rec.prune('bad_prune', NULL) AS null_keep, rec.prune(NULL, 1) AS null_model;
SELECT error_of($$SELECT rec.prune('bad_prune', 0)$$);
SELECT error_of($$SELECT rec.prune('bad_prune', -1)$$);
SELECT error_of($$SELECT rec.prune('no_such_model', 1)$$);
SELECT rec.prune('bad_prune', 2147483647) AS nothing_to_prune;
-- keep => 1 keeps the newest and the deployed version.
SELECT rec.prune('bad_prune', 1) AS pruned;
SELECT version, deployed FROM rec.models WHERE name = 'bad_prune';
SELECT rec.drop_model('bad_prune');
