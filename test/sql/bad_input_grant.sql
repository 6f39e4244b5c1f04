-- The bad-input catalogue of rec.grant: unknown roles and models, NULLs, repeats.
SET client_min_messages = warning;
CALL rec.train('bad_grant', 'tiny', factors => 2, iterations => 2);
SELECT error_of($$SELECT rec.grant('bad_grant', '')$$);
SELECT error_of($$SELECT rec.grant('bad_grant', 'no_such_role')$$);
SELECT error_of($$SELECT rec.grant('bad_grant', 'public; DROP TABLE tiny')$$);
-- STRICT: a NULL argument returns NULL and changes nothing.
SELECT rec.grant('bad_grant', NULL) AS null_role, rec.grant(NULL, 'public') AS null_model;
SELECT error_of($$SELECT rec.grant('no_such_model', 'public')$$);
SELECT rec.grant('bad_grant', 'PUBLIC') AS first, rec.grant('bad_grant', 'public') AS repeated;
SELECT count(*) AS tiny_still_there FROM tiny;
SELECT rec.drop_model('bad_grant');
