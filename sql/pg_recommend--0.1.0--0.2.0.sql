-- pg_recommend 0.1.0 -> 0.2.0: the worker-thread pool (rec.max_worker_threads) and its view.
\echo Use "ALTER EXTENSION pg_recommend UPDATE TO '0.2.0'" to load this file. \quit

CREATE FUNCTION @extschema@.worker_threads()
RETURNS TABLE (pid integer, threads integer, threads_wanted integer)
LANGUAGE C VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'rec_worker_threads';
COMMENT ON FUNCTION @extschema@.worker_threads IS 'pg_recommend: the training, evaluation, recommend_all and scoring runs now under way in every session, with the threads each holds (rec.max_worker_threads caps their workers together)';
