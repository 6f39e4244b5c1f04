-- Training: a model version per call, stored in ordinary tables, described in rec.models.
SET client_min_messages = warning;
CALL rec.train(model => 'movies', source => 'ratings', factors => 16, iterations => 5, regularization => 0.1);
SELECT name, version, algorithm, hyperparameters, source, n_users, n_items, n_ratings,
       train_metric, train_value BETWEEN 0.3 AND 0.9 AS plausible_rmse, train_seconds > 0 AS timed,
       owner = current_user::regrole AS owned_by_me, trained_at <= now() AS dated
FROM rec.models;

-- Every user and item has a row with `factors` values; seen items are what the user rated.
SELECT count(*) AS users, bool_and(array_length(factors, 1) = 16) AS all_have_16_factors
FROM rec.user_factors JOIN rec.models USING (model_id) WHERE name = 'movies';
SELECT count(*) AS items, sum(f.n_ratings) AS ratings FROM rec.item_factors f JOIN rec.models USING (model_id)
WHERE name = 'movies';
SELECT cardinality(seen_items) = (SELECT count(*) FROM ratings WHERE user_id = 1) AS seen_matches
FROM rec.user_factors JOIN rec.models USING (model_id) WHERE name = 'movies' AND user_id = 1;

-- Training again adds version 2; the defaults are those documented.
CALL rec.train('movies', 'ratings', iterations => 2);
SELECT version, hyperparameters FROM rec.models WHERE name = 'movies' ORDER BY version;
-- The separate bias and unweighted penalties are recorded with the version.
CALL rec.train('movies', 'ratings', factors => 8, iterations => 2, regularization => 0.08,
               bias_regularization => 0, unweighted_regularization => 4);
SELECT hyperparameters FROM rec.models WHERE name = 'movies' AND version = 3;

-- The explicit solvers: conjugate gradient (the default) reaches the exact solver's training error;
-- variational Bayes (noise_variance, exact solver) fits a little less on the training data, by design.
CALL rec.train('solvers_cg', 'ratings', factors => 8, iterations => 8);
CALL rec.train('solvers_exact', 'ratings', factors => 8, iterations => 8, solver => 'cholesky');
CALL rec.train('solvers_vb', 'ratings', factors => 8, iterations => 8, regularization => 0,
               unweighted_regularization => 3, noise_variance => 1.2);
SELECT a.name, abs(a.train_value - b.train_value) < 0.005 AS as_exact, a.hyperparameters->>'solver' AS solver,
       a.hyperparameters->'cg_steps' AS cg_steps, a.hyperparameters->'noise_variance' AS noise_variance
FROM rec.models a, rec.models b WHERE a.name LIKE 'solvers_%' AND b.name = 'solvers_exact' ORDER BY a.name;
SELECT (SELECT train_value FROM rec.models WHERE name = 'solvers_vb') >
       (SELECT train_value FROM rec.models WHERE name = 'solvers_exact') AS vb_fits_less,
       (SELECT count(*) FROM rec.recommend(1, 10, 'solvers_vb')) AS vb_serves;
SELECT rec.drop_model(name) FROM (VALUES ('solvers_cg'), ('solvers_exact'), ('solvers_vb')) m(name);

-- Any integer id type and any numeric rating type; duplicate (user, item) rows are averaged.
CREATE TABLE small_ids (u smallint, i int, stars numeric(3,1));
INSERT INTO small_ids VALUES (1, 1, 4.5), (1, 2, 2), (2, 1, 5), (2, 3, 3), (1, 1, 3.5);
CALL rec.train('small', 'small_ids', user_column => 'u', item_column => 'i', rating_column => 'stars',
               factors => 2, iterations => 3, unweighted_regularization => 0);
SELECT n_users, n_items, n_ratings FROM rec.models WHERE name = 'small';
-- User 1 rated item 1 with 4.5 and 3.5: the model learns 4.
SELECT abs(rec.predict(1, 1, 'small') - 4) < 0.25 AS learned_the_average;
RESET client_min_messages;

