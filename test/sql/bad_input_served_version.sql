-- The bad-input catalogue of rec.served_version: NULLs, unknown models, ids of the wrong kind.
SET client_min_messages = warning;
CALL rec.train('bad_served', 'tiny', factors => 2, iterations => 2);
CALL rec.train('bad_served', 'tiny', factors => 2, iterations => 2, deploy => false);
SELECT rec.served_version('bad_served', NULL::int) AS null_user;
SELECT error_of($$SELECT rec.served_version('no_such_model', 1)$$);
-- Without a test every user gets the deployed version, whatever the id; during one the id is read.
SELECT rec.served_version('bad_served', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid) AS without_a_test;
SELECT rec.deploy('bad_served', 2, traffic => 0.5);
SELECT error_of($$SELECT rec.served_version('bad_served', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid)$$);
SELECT error_of($$SELECT rec.served_version('bad_served', 1.5)$$);
-- Users the model never saw are assigned too (a new user is in the test as anyone).
SELECT count(DISTINCT rec.served_version('bad_served', u)) AS versions FROM generate_series(1000, 1100) u;
SELECT rec.drop_model('bad_served');
