-- The bad-input catalogue of rec.prune_impressions: NULLs, intervals that are not positive, unknown models.
SET client_min_messages = warning;
CALL rec.train('bad_prune_imp', 'tiny', factors => 2, iterations => 2);
SELECT error_of($$SELECT rec.prune_impressions(NULL)$$);
SELECT error_of($$SELECT rec.prune_impressions('bad_prune_imp', NULL)$$);
SELECT error_of($$SELECT rec.prune_impressions('bad_prune_imp', interval '-1 day')$$);
SELECT error_of($$SELECT rec.prune_impressions('bad_prune_imp', interval '0')$$);
SELECT error_of($$SELECT rec.prune_impressions('no_such_model')$$);
SELECT rec.prune_impressions('bad_prune_imp') AS nothing_to_prune;
SELECT rec.drop_model('bad_prune_imp');
