-- The bad-input catalogue of rec.tune: every bad grid, search and name gets an SQLSTATE, and a failed
-- tune leaves no version behind.
SET client_min_messages = warning;
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', NULL)$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{}')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '[]')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"factors": 8}')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"factors": []}')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"factors": ["x"]}')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"factors": [null]}')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"factors": [0]}')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"factors": [1e300]}')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"factors": [2.5]}')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"iterations": [-1e10]}')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"seed": [1e19]}')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"regularization": [1e300]}')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"regularization": [-1]}')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"no_such_parameter": [1]}')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"alpha": [1]}')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"factors": [2]}', search => 'nope')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"factors": [2]}', search => 'random')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"factors": [2]}', search => 'random', trials => 0)$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"factors": [2]}', algorithm => 'svd')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', NULL, '{"factors": [2]}')$$);
SELECT error_of($$CALL rec.tune('bad_tune', 'tiny', 'no_such_table', '{"factors": [2]}')$$);
SELECT error_of($$CALL rec.tune(NULL, 'tiny', 'tiny', '{"factors": [2]}')$$);
SELECT count(*) AS versions_left FROM rec.models WHERE name = 'bad_tune';
-- Whole numbers written with a fraction are the integers they equal.
CALL rec.tune('bad_tune', 'tiny', 'tiny', '{"factors": [2.0], "iterations": [1], "regularization": [1]}');
SELECT hyperparameters->'factors' AS factors, hyperparameters->'regularization' AS regularization FROM rec.models WHERE name = 'bad_tune';
SELECT rec.drop_model('bad_tune');
