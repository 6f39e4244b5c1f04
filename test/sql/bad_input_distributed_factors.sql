-- The bad-input catalogue of rec.distributed_factors, which broadcast_intermediate_result calls on a
-- Citus coordinator while rec.train sends a half-step: NULL gives no rows (STRICT); any other token,
-- or none being sent, is an error, never memory of another run.
SELECT count(*) AS null_token FROM rec.distributed_factors(NULL);
SELECT error_of($$SELECT rec.distributed_factors(0)$$);
SELECT error_of($$SELECT count(*) FROM rec.distributed_factors(-1)$$);
