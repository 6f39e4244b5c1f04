-- The bad-input catalogue of rec.drop_model: NULL, empty and unknown names.
SET client_min_messages = warning;
-- STRICT: NULL returns NULL and drops nothing.
SELECT rec.drop_model(NULL) AS null_model;
SELECT error_of($$SELECT rec.drop_model('')$$);
SELECT error_of($$SELECT rec.drop_model('no_such_model')$$);
SELECT error_of($$SELECT rec.drop_model('movies; DROP TABLE tiny')$$);
SELECT count(*) AS tiny_still_there FROM tiny;
