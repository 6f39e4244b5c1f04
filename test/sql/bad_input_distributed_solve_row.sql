-- The bad-input catalogue of rec.distributed_solve_row, which rec.train runs on Citus workers: NULLs give
-- NULL (STRICT), arrays with NULLs or of different lengths are refused before anything is read, and a
-- half-step that is not a Citus intermediate result of the transaction is an error (here, without
-- Citus, Citus's reader itself is missing). A corrupt packed half-step is refused by the core's
-- RowSolver (test/unit/distributed_step_test.cpp).
SELECT rec.distributed_solve_row(NULL, '{1}', '{1}', 'x') AS null_own_id,
       rec.distributed_solve_row(1, '{1}', '{1}', NULL) AS null_half_step;
SELECT error_of($$SELECT rec.distributed_solve_row(1, '{1, NULL}', '{1, 2}', 'x')$$);
SELECT error_of($$SELECT rec.distributed_solve_row(1, '{1, 2}', '{1}', 'x')$$);
SELECT error_of($$SELECT rec.distributed_solve_row(1, '{{1}, {2}}', '{1, 2}', 'x')$$);
SELECT error_of($$SELECT rec.distributed_solve_row(1, '{1}', '{1}', 'no_such_result')$$) LIKE '42883:%'
    AS needs_citus;
