-- Validation during training (learning curve, early stopping, deploying only if better) and rec.tune.
SET client_min_messages = warning;
SELECT * FROM rec.split('ratings', 'v_train', 'v_test', method => 'per_user', test_fraction => 0.2);

-- The validation metric per iteration is stored as a learning curve; its last value is what
-- rec.evaluate reports for the same held-out rows.
CALL rec.train('val', 'v_train', factors => 8, iterations => 4, validation_source => 'v_test');
SELECT iterations_run, validation_metric, jsonb_array_length(learning_curve) AS curve_points,
       learning_curve -> 0 ? 'training' AND learning_curve -> 0 ? 'validation' AS curve_has_both
FROM rec.models WHERE name = 'val';
SELECT abs(validation_value - (SELECT value FROM rec.evaluate('val', 'v_test') WHERE metric = 'rmse')) < 1e-6
       AS matches_evaluate
FROM rec.models WHERE name = 'val';
-- Implicit models are validated by ndcg@10, as rec.evaluate ranks.
CALL rec.train('val_ials', 'v_train', rating_column => NULL, algorithm => 'ials', factors => 8, iterations => 3,
               validation_source => 'v_test');
SELECT validation_metric,
       abs(validation_value - (SELECT value FROM rec.evaluate('val_ials', 'v_test', rating_column => NULL)
                               WHERE metric = 'ndcg')) < 1e-9 AS matches_evaluate
FROM rec.models WHERE name = 'val_ials';

-- Early stopping: a weakly regularized model overfits; training stops once the validation RMSE has
-- not improved on its best for 2 iterations, and the curve shows why.
CALL rec.train('early', 'v_train', factors => 32, iterations => 30, regularization => 0.001,
               validation_source => 'v_test', early_stopping => true);
SELECT iterations_run < 30 AS stopped_early, jsonb_array_length(learning_curve) = iterations_run AS curve_per_iteration,
       (SELECT min((p->>'validation')::float8) FROM jsonb_array_elements(learning_curve) p)
           < (learning_curve -> -1 ->> 'validation')::float8 AS ended_above_its_best
FROM rec.models WHERE name = 'early';

-- deploy_if_better: a worse version (heavier regularization) is stored but not deployed; a better one
-- is deployed.
CALL rec.train('guarded', 'v_train', factors => 8, iterations => 5, regularization => 1, validation_source => 'v_test');
CALL rec.train('guarded', 'v_train', factors => 8, iterations => 5, regularization => 20,
               validation_source => 'v_test', deploy_if_better => true);
CALL rec.train('guarded', 'v_train', factors => 8, iterations => 5, regularization => 0.1,
               validation_source => 'v_test', deploy_if_better => true);
SELECT version, deployed FROM rec.models WHERE name = 'guarded' ORDER BY version;
SELECT (SELECT validation_value FROM rec.models WHERE name = 'guarded' AND version = 3)
     < (SELECT validation_value FROM rec.models WHERE name = 'guarded' AND version = 1) AS third_is_better;

-- rec.tune: one version per combination, the best on the validation source deployed.
CALL rec.tune('tuned', 'v_train', 'v_test', '{"factors": [4, 8], "regularization": [0.05, 1.0]}');
SELECT count(*) AS versions, count(*) FILTER (WHERE deployed) AS deployed_versions FROM rec.models WHERE name = 'tuned';
SELECT validation_value = (SELECT min(validation_value) FROM rec.models WHERE name = 'tuned') AS deployed_is_best,
       hyperparameters ->> 'factors' IS NOT NULL AS has_hyperparameters
FROM rec.models WHERE name = 'tuned' AND deployed;
SELECT string_agg(hyperparameters ->> 'factors' || '/' || (hyperparameters ->> 'regularization'), ' ' ORDER BY version)
       AS combinations_tried
FROM rec.models WHERE name = 'tuned';
-- A trial trains through rec.train's own code: the same parameters give the same model.
CALL rec.train('same_as_trial', 'v_train', factors => 8, regularization => 1.0, validation_source => 'v_test',
               deploy => false);
SELECT t.validation_value = s.validation_value AS same_validation,
       (SELECT bool_and(a.factors = b.factors) AND count(*) > 0
        FROM rec.item_factors a JOIN rec.item_factors b USING (item_id)
        WHERE a.model_id = t.model_id AND b.model_id = s.model_id) AS same_item_factors
FROM rec.models t, rec.models s
WHERE t.name = 'tuned' AND t.hyperparameters ->> 'factors' = '8'
  AND (t.hyperparameters ->> 'regularization')::float8 = 1.0 AND s.name = 'same_as_trial';
-- Random search: `trials` combinations.
CALL rec.tune('tuned_random', 'v_train', 'v_test', '{"factors": [4, 8, 16], "regularization": [0.05, 0.5, 1.0]}',
              search => 'random', trials => 2);
SELECT count(*) AS random_trials FROM rec.models WHERE name = 'tuned_random';

-- Bad arguments.
SELECT error_of($$CALL rec.train('bad', 'v_train', early_stopping => true)$$);
SELECT error_of($$CALL rec.train('bad', 'v_train', deploy_if_better => true)$$);
SELECT error_of($$CALL rec.train('bad', 'v_train', validation_source => 'no_such_table')$$);
SELECT error_of($$CALL rec.tune('bad', 'v_train', 'v_test', '{"model": ["x"]}')$$);
SELECT error_of($$CALL rec.tune('bad', 'v_train', 'v_test', '{"factors; DROP TABLE movies": [4]}')$$);
SELECT error_of($$CALL rec.tune('bad', 'v_train', 'v_test', '{"factors": []}')$$);
SELECT error_of($$CALL rec.tune('bad', 'v_train', 'v_test', '{"factors": ["4; DROP TABLE movies"]}')$$);
SELECT error_of($$CALL rec.tune('bad', 'v_train', 'v_test', '[4, 8]')$$);
SELECT error_of($$CALL rec.tune('bad', 'v_train', 'v_test', '{}')$$);
SELECT error_of($$CALL rec.tune('bad', 'v_train', 'v_test', '{"factors": [4]}', search => 'random')$$);
SELECT error_of($$CALL rec.tune('bad', 'v_train', 'v_test', '{"factors": [4]}', search => 'exhaustive')$$);
SELECT error_of($$CALL rec.tune('bad', 'v_train', 'v_test', '{"factors": [0]}')$$);
-- Absurd grids are refused before anything is trained.
SELECT error_of($$CALL rec.tune('bad', 'v_train', 'v_test',
    '{"factors": [1,2,3,4,5,6,7,8,9,10,11], "iterations": [1,2,3,4,5,6,7,8,9,10], "seed": [1,2,3,4,5,6,7,8,9,10]}')$$);
SELECT error_of($$CALL rec.tune('bad', 'v_train', 'v_test', '{"factors": [4, 8]}', search => 'random', trials => 5000)$$);
SELECT error_of($$CALL rec.tune('bad', 'v_train', 'v_test',
    '{"factors": [1,2,3,4,5,6,7,8,9,10], "iterations": [1,2,3,4,5,6,7,8,9,10], "seed": [1,2,3,4,5,6,7,8,9,10],
      "alpha": [1,2,3,4,5,6,7,8,9,10], "cg_steps": [1,2,3,4,5,6,7,8,9,10], "learning_rate": [1,2,3,4,5,6,7,8,9,10],
      "regularization": [1,2,3,4,5,6,7,8,9,10]}', search => 'random', trials => 3)$$);
SELECT count(*) AS bad_versions_left FROM rec.models WHERE name = 'bad';
SELECT count(*) AS movies_intact FROM movies;

SELECT rec.drop_model(name) FROM (SELECT DISTINCT name FROM rec.models
                                  WHERE name IN ('val', 'val_ials', 'early', 'guarded', 'tuned', 'tuned_random')) m
ORDER BY name;
DROP TABLE v_train, v_test;
