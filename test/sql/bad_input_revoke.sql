-- The bad-input catalogue of rec.revoke: unknown roles and models, NULLs, repeats.
SET client_min_messages = warning;
CALL rec.train('bad_revoke', 'tiny', factors => 2, iterations => 2);
SELECT error_of($$SELECT rec.revoke('bad_revoke', '')$$);
SELECT error_of($$SELECT rec.revoke('bad_revoke', 'no_such_role')$$);
SELECT error_of($$SELECT rec.revoke('bad_revoke', 'public; DROP TABLE tiny')$$);
-- STRICT: a NULL argument returns NULL and changes nothing.
SELECT rec.revoke('bad_revoke', NULL) AS null_role, rec.revoke(NULL, 'public') AS null_model;
SELECT error_of($$SELECT rec.revoke('no_such_model', 'public')$$);
SELECT rec.grant('bad_revoke', 'PUBLIC') AS granted;
SELECT rec.revoke('bad_revoke', 'PUBLIC') AS first, rec.revoke('bad_revoke', 'public') AS repeated;
SELECT count(*) AS tiny_still_there FROM tiny;
SELECT rec.drop_model('bad_revoke');
