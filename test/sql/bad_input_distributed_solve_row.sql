-- The bad-input catalogue of rec.distributed_solve_row, which rec.train runs on Citus workers: NULLs give
-- NULL (STRICT), arrays with NULLs or of different lengths and anything that is not a packed half-step
-- of this version are refused, never read past their end.
SELECT rec.distributed_solve_row(NULL, '{1}', '{1}', '\x00') AS null_own_id,
       rec.distributed_solve_row(1, '{1}', '{1}', NULL) AS null_half_step;
SELECT error_of($$SELECT rec.distributed_solve_row(1, '{1, NULL}', '{1, 2}', '\x00')$$);
SELECT error_of($$SELECT rec.distributed_solve_row(1, '{1, 2}', '{1}', '\x00')$$);
SELECT error_of($$SELECT rec.distributed_solve_row(1, '{{1}, {2}}', '{1, 2}', '\x00')$$);
SELECT error_of($$SELECT rec.distributed_solve_row(1, '{1}', '{1}', '\x00')$$);
SELECT error_of($$SELECT rec.distributed_solve_row(1, '{1}', '{1}', decode(repeat('44434552', 40), 'hex'))$$);
SELECT error_of($$SELECT rec.distributed_solve_row(1, '{}', '{}', '')$$);
