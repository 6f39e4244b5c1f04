-- The bad-input catalogue of rec.rollback: nothing to roll back to, NULLs, unknown models.
SET client_min_messages = warning;
CALL rec.train('bad_rollback', 'tiny', factors => 2, iterations => 2);
SELECT error_of($$SELECT rec.rollback('bad_rollback')$$);
-- STRICT: NULL returns NULL.
SELECT rec.rollback(NULL) AS null_model;
SELECT error_of($$SELECT rec.rollback('no_such_model')$$);
CALL rec.train('bad_rollback', 'tiny', factors => 2, iterations => 2);
SELECT rec.rollback('bad_rollback') AS back_to;
SELECT error_of($$SELECT rec.rollback('bad_rollback')$$);
SELECT rec.drop_model('bad_rollback');
