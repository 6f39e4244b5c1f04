-- The bad-input catalogue of rec.install_replica, which only rec.distribute_model calls (on Citus
-- workers, as the extension's owner): no one else may run it, NULLs are refused, and outside a Citus
-- worker it refuses to write anything.
SELECT has_function_privilege('public', 'rec.install_replica(jsonb, jsonb, jsonb, jsonb, bigint)', 'EXECUTE')
    AS public_may_execute;
SELECT error_of($$SELECT rec.install_replica(NULL, '[]', '[]', '[]', 1)$$);
SELECT error_of($$SELECT rec.install_replica('{"model_id": 1, "name": "x"}', '[]', '[]', '[]', 1)$$);
SELECT count(*) AS versions FROM rec.model_versions WHERE name = 'x';
