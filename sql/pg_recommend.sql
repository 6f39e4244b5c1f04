-- pg_recommend install script (copied by the Makefile to pg_recommend--<version>.sql).
\echo Use "CREATE EXTENSION pg_recommend" to load this file. \quit

-- Storage. Models are rows in ordinary WAL-logged tables: they survive crashes, replicate to
-- standbys and are dumped by pg_dump (see pg_extension_config_dump below). Only pg_recommend's C code
-- writes them, as the extension's owner; a model is readable by its owner and the roles it was granted to.
CREATE SEQUENCE @extschema@.model_id_seq;

CREATE TABLE @extschema@.model_versions (
    model_id        bigint PRIMARY KEY DEFAULT nextval('@extschema@.model_id_seq'),
    name            text NOT NULL,
    version         integer NOT NULL,
    algorithm       text NOT NULL,
    hyperparameters jsonb NOT NULL,
    source          text NOT NULL,
    user_column     text NOT NULL,                  -- the source's columns, as given (for refreshes)
    item_column     text NOT NULL,
    rating_column   text,                           -- NULL: every row counted 1
    user_type       regtype NOT NULL,               -- the id columns' types: integer ones, text, varchar or uuid
    item_type       regtype NOT NULL,
    user_key_bytes  bigint NOT NULL DEFAULT 0,      -- text and uuid ids: their texts' lengths summed
    item_key_bytes  bigint NOT NULL DEFAULT 0,
    revision        integer NOT NULL DEFAULT 0,     -- bumped by each rec.refresh_users / refresh_items
    n_users         integer NOT NULL,
    n_items         integer NOT NULL,
    n_ratings       bigint NOT NULL,
    global_mean     double precision NOT NULL,
    rating_min      real NOT NULL,
    rating_max      real NOT NULL,
    train_metric    text NOT NULL,
    train_value     double precision NOT NULL,
    train_seconds   double precision NOT NULL,
    owner           regrole NOT NULL,
    iterations_run  integer NOT NULL,               -- fewer than asked when early stopping ended training
    validation_metric text,                          -- with a validation_source: 'validation RMSE' or 'validation ndcg@10'
    validation_value  double precision,              -- its value after the last iteration
    learning_curve    jsonb,                         -- [{"iteration", "training", "validation"}, ...]
    trained_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, version)
);

CREATE TABLE @extschema@.user_factors (
    model_id   bigint NOT NULL,
    user_id    bigint NOT NULL,                   -- text and uuid ids: the hash of user_key
    bias       real NOT NULL,
    factors    real[] NOT NULL,
    seen_items bigint[] NOT NULL,
    seen_values real[] NOT NULL,
    revision   integer NOT NULL DEFAULT 0,        -- the model revision that last wrote the row (refreshes)
    user_key   text,                              -- text and uuid ids: the id's text; else NULL
    PRIMARY KEY (model_id, user_id)
);
CREATE INDEX user_factors_refreshed ON @extschema@.user_factors (model_id, revision) WHERE revision > 0;

CREATE TABLE @extschema@.item_factors (
    model_id  bigint NOT NULL,
    item_id   bigint NOT NULL,
    bias      real NOT NULL,
    factors   real[] NOT NULL,
    n_ratings integer NOT NULL,
    revision  integer NOT NULL DEFAULT 0,
    item_key  text,
    PRIMARY KEY (model_id, item_id)
);
CREATE INDEX item_factors_refreshed ON @extschema@.item_factors (model_id, revision) WHERE revision > 0;
-- Factor and id arrays barely compress (floats, scattered ids): a user's long seen list is stored out of
-- line without the compression attempt that would otherwise dominate the time of storing a model.
ALTER TABLE @extschema@.user_factors ALTER COLUMN factors SET STORAGE EXTERNAL,
    ALTER COLUMN seen_items SET STORAGE EXTERNAL, ALTER COLUMN seen_values SET STORAGE EXTERNAL;
ALTER TABLE @extschema@.item_factors ALTER COLUMN factors SET STORAGE EXTERNAL;

-- Which version of each model is served: the newest row of a name that is not rolled back. Every
-- deployment is kept, so rec.rollback can return to the one before.
CREATE SEQUENCE @extschema@.deployment_id_seq;
CREATE TABLE @extschema@.deployments (
    deployment_id bigint PRIMARY KEY DEFAULT nextval('@extschema@.deployment_id_seq'),
    name          text NOT NULL,
    model_id      bigint NOT NULL,
    deployed_at   timestamptz NOT NULL DEFAULT now(),
    deployed_by   regrole NOT NULL,
    rolled_back   boolean NOT NULL DEFAULT false,
    traffic       double precision NOT NULL DEFAULT 1   -- < 1: an A/B test's challenger, serving that share of users
                  CHECK (traffic > 0 AND traffic <= 1)
);
CREATE INDEX ON @extschema@.deployments (name, deployment_id);

-- Who may read a model besides its owner (rec.grant / rec.revoke). grantee 0 ('-') is PUBLIC.
CREATE TABLE @extschema@.model_grants (
    name       text NOT NULL,
    grantee    regrole NOT NULL,
    granted_by regrole NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, grantee)
);

-- A model's rows are visible to its owner (and members of the owner role), to roles it was granted
-- to, and to superusers and the extension's owner (who bypass row-level security). Serving finds the
-- deployed version through these policies, so a model not granted to the caller cannot be served.
ALTER TABLE @extschema@.model_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON @extschema@.model_versions FOR SELECT USING (
    pg_catalog.pg_has_role(owner, 'USAGE')
    OR EXISTS (SELECT 1 FROM @extschema@.model_grants g
               WHERE g.name = model_versions.name
                 AND (g.grantee = 0 OR pg_catalog.pg_has_role(g.grantee, 'USAGE'))));
ALTER TABLE @extschema@.user_factors ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON @extschema@.user_factors FOR SELECT USING (
    EXISTS (SELECT 1 FROM @extschema@.model_versions v WHERE v.model_id = user_factors.model_id));
ALTER TABLE @extschema@.item_factors ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON @extschema@.item_factors FOR SELECT USING (
    EXISTS (SELECT 1 FROM @extschema@.model_versions v WHERE v.model_id = item_factors.model_id));
ALTER TABLE @extschema@.deployments ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON @extschema@.deployments FOR SELECT USING (
    EXISTS (SELECT 1 FROM @extschema@.model_versions v WHERE v.model_id = deployments.model_id));

SELECT pg_catalog.pg_extension_config_dump('@extschema@.model_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.model_grants', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.deployments', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.deployment_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.model_versions', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.user_factors', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.item_factors', '');

COMMENT ON TABLE @extschema@.model_versions IS 'pg_recommend: one row per trained model version (read it through rec.models)';
COMMENT ON TABLE @extschema@.user_factors IS 'pg_recommend: learned user bias and factors, the items each user interacted with in training and their (merged) ratings or counts';
COMMENT ON TABLE @extschema@.deployments IS 'pg_recommend: deployment history; the served version of a model is its newest deployment not rolled back';
COMMENT ON TABLE @extschema@.model_grants IS 'pg_recommend: roles that may read a model besides its owner (rec.grant, rec.revoke); grantee - is PUBLIC';
COMMENT ON TABLE @extschema@.item_factors IS 'pg_recommend: learned item bias and factors, and the item''s number of training ratings';

CREATE VIEW @extschema@.models WITH (security_invoker = true) AS
SELECT v.name, v.version,
       v.model_id = served.main IS TRUE AS deployed,
       v.revision, v.algorithm, v.hyperparameters, v.source, v.n_users, v.n_items, v.n_ratings,
       v.train_metric, v.train_value, v.iterations_run, v.validation_metric, v.validation_value, v.learning_curve,
       v.train_seconds, v.owner, v.trained_at, v.model_id,
       CASE WHEN v.model_id = served.challenger THEN served.traffic
            WHEN v.model_id = served.main THEN 1 - coalesce(served.traffic, 0) END AS traffic
FROM @extschema@.model_versions v
LEFT JOIN LATERAL (
    -- The main deployment (traffic 1) and, newer than it, an A/B test's challenger.
    SELECT m.model_id AS main, c.model_id AS challenger, c.traffic
    FROM (SELECT d.deployment_id, d.model_id FROM @extschema@.deployments d
          JOIN @extschema@.model_versions dv ON dv.model_id = d.model_id
          WHERE d.name = v.name AND NOT d.rolled_back AND d.traffic >= 1
          ORDER BY d.deployment_id DESC LIMIT 1) m
    LEFT JOIN LATERAL (SELECT d.model_id, d.traffic FROM @extschema@.deployments d
                       JOIN @extschema@.model_versions dv ON dv.model_id = d.model_id
                       WHERE d.name = v.name AND NOT d.rolled_back AND d.deployment_id > m.deployment_id
                       ORDER BY d.deployment_id DESC LIMIT 1) c ON true) served ON true;
COMMENT ON VIEW @extschema@.models IS 'pg_recommend: one row per trained model version, with its hyperparameters and training metrics';

GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;
GRANT SELECT ON @extschema@.model_versions, @extschema@.user_factors, @extschema@.item_factors,
                @extschema@.deployments, @extschema@.model_grants, @extschema@.models TO PUBLIC;

-- Item features (rec.train's item_features): the map from features to item factors fitted with a
-- version, one row per feature (the intercept as the empty feature), for rec.refresh_items.
CREATE TABLE @extschema@.feature_weights (
    model_id bigint NOT NULL,
    feature  text NOT NULL,
    factors  real[] NOT NULL,
    bias     real NOT NULL,
    PRIMARY KEY (model_id, feature)
);
ALTER TABLE @extschema@.feature_weights ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON @extschema@.feature_weights FOR SELECT USING (
    EXISTS (SELECT 1 FROM @extschema@.model_versions v WHERE v.model_id = feature_weights.model_id));
SELECT pg_catalog.pg_extension_config_dump('@extschema@.feature_weights', '');
COMMENT ON TABLE @extschema@.feature_weights IS 'pg_recommend: per model version trained with item_features, each feature''s weights to item factors and bias (the intercept as the empty feature)';
GRANT SELECT ON @extschema@.feature_weights TO PUBLIC;

-- Item-item models (rec.train's algorithm 'ease' and 'itemknn'): one row per item of a version, the
-- item's weights towards other items (a user's score for item j sums x_ui * weight over the user's
-- items i). neighbours are item indexes (positions in item_id order); NULL: a dense row, one weight
-- per item in that order.
CREATE TABLE @extschema@.item_weights (
    model_id   bigint NOT NULL,
    item_id    bigint NOT NULL,
    neighbours integer[],
    weights    real[] NOT NULL,
    PRIMARY KEY (model_id, item_id)
);
ALTER TABLE @extschema@.item_weights ALTER COLUMN neighbours SET STORAGE EXTERNAL,
    ALTER COLUMN weights SET STORAGE EXTERNAL;
ALTER TABLE @extschema@.item_weights ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON @extschema@.item_weights FOR SELECT USING (
    EXISTS (SELECT 1 FROM @extschema@.model_versions v WHERE v.model_id = item_weights.model_id));
SELECT pg_catalog.pg_extension_config_dump('@extschema@.item_weights', '');
COMMENT ON TABLE @extschema@.item_weights IS 'pg_recommend: per version of an item-item model (ease, itemknn), each item''s weights towards other items (neighbours as item indexes in item_id order; NULL: every item)';
GRANT SELECT ON @extschema@.item_weights TO PUBLIC;

-- Training.
CREATE PROCEDURE @extschema@.train(
    model          text,
    source         text,
    user_column    text DEFAULT 'user_id',
    item_column    text DEFAULT 'item_id',
    rating_column  text DEFAULT 'rating',
    algorithm      text DEFAULT 'als',
    factors        integer DEFAULT 64,              -- als, ials, bpr (ease and itemknn: only the default)
    iterations     integer DEFAULT NULL,            -- NULL: 10 for als, 15 for ials, 100 for bpr (not ease, itemknn)
    regularization double precision DEFAULT NULL,   -- NULL: 0.05 for als, 0.01 for ials and bpr, 250 for ease
    seed           bigint DEFAULT 42,
    bias_regularization       double precision DEFAULT NULL,  -- als; NULL: 0
    unweighted_regularization double precision DEFAULT NULL,  -- als; NULL: 5
    alpha          double precision DEFAULT NULL,   -- ials; NULL: 1.0
    cg_steps       integer DEFAULT NULL,            -- als and ials with solver 'cg'; NULL: 2 for als, 3 for ials
    solver         text DEFAULT NULL,               -- als and ials: 'cg' (NULL) or 'cholesky'
    learning_rate  double precision DEFAULT NULL,   -- bpr; NULL: 0.01
    deploy         boolean DEFAULT true,            -- serve the new version at once
    wait           boolean DEFAULT true,            -- another training of this model running: wait (else 55P03)
    validation_source text DEFAULT NULL,            -- held-out rows: a validation metric per iteration
    early_stopping boolean DEFAULT false,           -- stop when the validation metric stops improving
    deploy_if_better boolean DEFAULT false,         -- deploy only if not worse than the deployed version
    confidence     text DEFAULT NULL,               -- ials: 'hu' (NULL: 1 + alpha * value) or 'implicit' (alpha * value)
    noise_variance double precision DEFAULT NULL,   -- als: > 0 trains by variational Bayes (solver 'cholesky'); NULL: 0
    time_column    text DEFAULT NULL,               -- each interaction's time (timestamp[tz], date or epoch seconds)
    half_life      interval DEFAULT NULL,           -- with time_column: weight 0.5 ^ (age / half_life); NULL: none
    item_features  text DEFAULT NULL,               -- (item id, feature text [, weight real]): cold-start items
    min_user_interactions integer DEFAULT NULL,     -- cleaning: drop users and items below these until
    min_item_interactions integer DEFAULT NULL,     --   none is (a k-core), after
    max_user_interactions integer DEFAULT NULL,     --   dropping users above this (bots)
    neighbours     integer DEFAULT NULL,            -- itemknn: each item's kept neighbours (NULL: 200); ease: 0 (NULL) keeps every weight
    similarity     text DEFAULT NULL)               -- itemknn: 'cosine' (NULL), 'bm25' or 'tfidf', as the implicit library's
LANGUAGE C AS 'MODULE_PATHNAME', 'rec_train';
CREATE PROCEDURE @extschema@.tune(
    model             text,
    source            text,
    validation_source text,
    grid              jsonb,                        -- {"factors": [32, 64], "regularization": [0.01, 0.1]}
    user_column       text DEFAULT 'user_id',
    item_column       text DEFAULT 'item_id',
    rating_column     text DEFAULT 'rating',
    algorithm         text DEFAULT 'als',
    search            text DEFAULT 'grid',          -- 'grid': every combination; 'random': `trials` of them
    trials            integer DEFAULT NULL,
    seed              bigint DEFAULT 42)            -- which combinations a random search tries
LANGUAGE C AS 'MODULE_PATHNAME', 'rec_tune';
COMMENT ON PROCEDURE @extschema@.tune IS 'pg_recommend: train one version per hyperparameter combination, judge each on a validation source, deploy the best';

COMMENT ON PROCEDURE @extschema@.train IS 'pg_recommend: train a new version of a recommender model from a table or view';

-- Serving. Ids are passed as they are in the training source (integer, text or uuid, or a quoted
-- literal) and returned in the type of the id argument (similar_items, similar_users, explain,
-- recommend_for_items), or of item_type (recommend's second form). See docs/sql.md, "Ids".
CREATE FUNCTION @extschema@.recommend(
    user_id      anycompatible,
    n            integer DEFAULT 10,
    model        text DEFAULT NULL,
    exclude_seen boolean DEFAULT true,
    candidates   bigint[] DEFAULT NULL,   -- only these items may be returned
    exclude      bigint[] DEFAULT NULL,   -- never these
    diversity    real DEFAULT 0,          -- 0: relevance alone .. 1: most diverse (maximal marginal relevance)
    group_table  text DEFAULT NULL,       -- (item id, group): with per_group_limit, at most that many of a group
    per_group_limit integer DEFAULT NULL,
    log_impressions boolean DEFAULT false)  -- record the list in rec.impressions
RETURNS TABLE (item_id bigint, score real)
LANGUAGE C STABLE PARALLEL SAFE ROWS 10
AS 'MODULE_PATHNAME', 'rec_recommend';
COMMENT ON FUNCTION @extschema@.recommend(anycompatible, integer, text, boolean, bigint[], bigint[], real, text, integer, boolean) IS 'pg_recommend: top n items for a user, best first (integer item ids)';

-- The same for items of any id type: item_type => NULL::text (or ::uuid, ::integer) names the type
-- of the returned item ids.
CREATE FUNCTION @extschema@.recommend(
    user_id      anycompatible,
    item_type    anyelement,
    n            integer DEFAULT 10,
    model        text DEFAULT NULL,
    exclude_seen boolean DEFAULT true,
    candidates   "any" DEFAULT NULL,      -- an array of item ids
    exclude      "any" DEFAULT NULL,
    diversity    real DEFAULT 0,          -- 0: relevance alone .. 1: most diverse (maximal marginal relevance)
    group_table  text DEFAULT NULL,       -- (item id, group): with per_group_limit, at most that many of a group
    per_group_limit integer DEFAULT NULL,
    log_impressions boolean DEFAULT false)  -- record the list in rec.impressions
RETURNS TABLE (item_id anyelement, score real)
LANGUAGE C STABLE PARALLEL SAFE ROWS 10
AS 'MODULE_PATHNAME', 'rec_recommend_typed';
COMMENT ON FUNCTION @extschema@.recommend(anycompatible, anyelement, integer, text, boolean, "any", "any", real, text, integer, boolean) IS 'pg_recommend: top n items for a user, best first, the item ids of the type named by item_type';

CREATE FUNCTION @extschema@.recommend_for_items(
    items      anycompatiblearray,
    ratings    real[] DEFAULT NULL,
    n          integer DEFAULT 10,
    model      text DEFAULT NULL,
    candidates "any" DEFAULT NULL,                -- an array of item ids: only these may be returned
    exclude    "any" DEFAULT NULL,                -- an array of item ids: never these
    diversity    real DEFAULT 0,          -- 0: relevance alone .. 1: most diverse (maximal marginal relevance)
    group_table  text DEFAULT NULL,       -- (item id, group): with per_group_limit, at most that many of a group
    per_group_limit integer DEFAULT NULL)
RETURNS TABLE (item_id anycompatible, score real)
LANGUAGE C STABLE PARALLEL SAFE ROWS 10
AS 'MODULE_PATHNAME', 'rec_recommend_for_items';
COMMENT ON FUNCTION @extschema@.recommend_for_items IS 'pg_recommend: top n items for a new or anonymous user given the items they interacted with, without retraining';

CREATE FUNCTION @extschema@.similar_items(
    item_id    anycompatible,
    n          integer DEFAULT 10,
    model      text DEFAULT NULL,
    candidates "any" DEFAULT NULL,                -- an array of item ids: only these may be returned
    exclude    "any" DEFAULT NULL)                -- an array of item ids: never these
RETURNS TABLE (item_id anycompatible, similarity real)
LANGUAGE C STABLE PARALLEL SAFE ROWS 10
AS 'MODULE_PATHNAME', 'rec_similar_items';
COMMENT ON FUNCTION @extschema@.similar_items IS 'pg_recommend: the items most similar to an item, by cosine of their factors';

CREATE FUNCTION @extschema@.similar_users(user_id anycompatible, n integer DEFAULT 10, model text DEFAULT NULL)
RETURNS TABLE (user_id anycompatible, similarity real)
LANGUAGE C STABLE PARALLEL SAFE ROWS 10
AS 'MODULE_PATHNAME', 'rec_similar_users';
COMMENT ON FUNCTION @extschema@.similar_users IS 'pg_recommend: the users most similar to a user, by cosine of their factors';

CREATE FUNCTION @extschema@.predict(user_id anycompatible, item_id "any", model text DEFAULT NULL)
RETURNS real
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'rec_predict';
COMMENT ON FUNCTION @extschema@.predict IS 'pg_recommend: predicted rating of an item by a user';

CREATE FUNCTION @extschema@.explain(user_id "any", item_id anycompatible, n integer DEFAULT 5, model text DEFAULT NULL)
RETURNS TABLE (item_id anycompatible, contribution real)
LANGUAGE C STABLE PARALLEL SAFE ROWS 5
AS 'MODULE_PATHNAME', 'rec_explain';
COMMENT ON FUNCTION @extschema@.explain IS 'pg_recommend: which of a user''s own items drove the user''s score for an item, largest contribution first';

CREATE FUNCTION @extschema@.cache_status()
RETURNS TABLE (model_id bigint, bytes bigint, hits bigint, pins integer, shared boolean, loads bigint)
LANGUAGE C VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'rec_cache_status';
COMMENT ON FUNCTION @extschema@.cache_status IS 'pg_recommend: the models loaded for serving: in shared memory (shared) or in this connection''s memory';

CREATE FUNCTION @extschema@.worker_threads()
RETURNS TABLE (pid integer, threads integer, threads_wanted integer)
LANGUAGE C VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'rec_worker_threads';
COMMENT ON FUNCTION @extschema@.worker_threads IS 'pg_recommend: the training, evaluation, recommend_all and scoring runs now under way in every session, with the threads each holds (rec.max_worker_threads caps their workers together)';

CREATE FUNCTION @extschema@.deploy(model text, version integer, traffic double precision DEFAULT 1)
RETURNS integer
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'rec_deploy';
COMMENT ON FUNCTION @extschema@.deploy IS 'pg_recommend: serve this version of the model from now on, to everyone or (traffic < 1, an A/B test) to that share of users (transactional); returns the version';

CREATE FUNCTION @extschema@.rollback(model text)
RETURNS integer
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'rec_rollback';
COMMENT ON FUNCTION @extschema@.rollback IS 'pg_recommend: serve the previously deployed version again (transactional); returns that version';

CREATE FUNCTION @extschema@.prune(model text, keep integer DEFAULT 3)
RETURNS integer
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'rec_prune';
COMMENT ON FUNCTION @extschema@.prune IS 'pg_recommend: delete all versions of the model but the newest keep and the deployed one; returns how many were deleted';

CREATE FUNCTION @extschema@.grant(model text, role text)
RETURNS integer
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'rec_grant';
COMMENT ON FUNCTION @extschema@.grant IS 'pg_recommend: let a role (or PUBLIC) serve and read every version of a model; owner only; returns 1 if newly granted';

CREATE FUNCTION @extschema@.revoke(model text, role text)
RETURNS integer
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'rec_revoke';
COMMENT ON FUNCTION @extschema@.revoke IS 'pg_recommend: undo rec.grant; owner only; returns 1 if a grant was removed';

CREATE FUNCTION @extschema@.refresh_users(model text, user_ids anycompatiblearray)
RETURNS integer
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'rec_refresh_users';
COMMENT ON FUNCTION @extschema@.refresh_users IS 'pg_recommend: solve these users again from their current rows in the training source, item factors fixed; adds new users; returns how many';

CREATE FUNCTION @extschema@.refresh_items(model text, item_ids anycompatiblearray)
RETURNS integer
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'rec_refresh_items';
COMMENT ON FUNCTION @extschema@.refresh_items IS 'pg_recommend: solve these items again from their current rows in the training source, user factors fixed; adds new items; returns how many';

CREATE FUNCTION @extschema@.drop_model(model text)
RETURNS integer
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'rec_drop_model';
COMMENT ON FUNCTION @extschema@.drop_model IS 'pg_recommend: delete every version of a model; returns how many were deleted';

-- Evaluation.
CREATE FUNCTION @extschema@.evaluate(
    model               text,
    test_source         text,
    k                   integer DEFAULT 10,
    user_column         text DEFAULT 'user_id',
    item_column         text DEFAULT 'item_id',
    rating_column       text DEFAULT 'rating',
    relevance_threshold double precision DEFAULT NULL,
    group_column        text DEFAULT NULL)      -- a column of the test source: every metric per group too
RETURNS TABLE (metric text, value double precision, group_value text)   -- group_value NULL: all users
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'rec_evaluate';
COMMENT ON FUNCTION @extschema@.evaluate IS 'pg_recommend: a model''s error and ranking metrics on held-out rows';

-- Splitting data for evaluation.
CREATE FUNCTION @extschema@.split(
    source        text,
    train_table   text,
    test_table    text,
    method        text DEFAULT 'random',            -- 'random', 'per_user' or 'time'
    test_fraction double precision DEFAULT 0.2,
    time_column   text DEFAULT NULL,                -- method 'time': each user's latest rows are held out
    seed          bigint DEFAULT 42,
    user_column   text DEFAULT 'user_id')           -- methods 'per_user' and 'time'
RETURNS TABLE (train_rows bigint, test_rows bigint)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'rec_split';
COMMENT ON FUNCTION @extschema@.split IS 'pg_recommend: split a table''s rows into a new training table and a new test table';

-- Batch serving.
CREATE FUNCTION @extschema@.recommend_all(
    model        text,
    n            integer DEFAULT 10,
    target_table text DEFAULT 'recs',
    candidates   "any" DEFAULT NULL,     -- an array of item ids: only these may be recommended
    exclude      "any" DEFAULT NULL)     -- an array of item ids: never these
RETURNS bigint
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'rec_recommend_all';
COMMENT ON FUNCTION @extschema@.recommend_all IS 'pg_recommend: every user''s top n written to a new table (user_id, item_id, score, rank); returns the rows written';

-- Trending: items by their time-decayed interaction count in the model's source (trained with a time_column).
CREATE FUNCTION @extschema@.trending(
    model      text,
    n          integer DEFAULT 10,
    half_life  interval DEFAULT '7 days',         -- each interaction counts 0.5 ^ (age / half_life)
    candidates "any" DEFAULT NULL,                -- an array of item ids: only these may be returned
    exclude    "any" DEFAULT NULL)                -- an array of item ids: never these
RETURNS TABLE (item_id bigint, score real)
LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 10
AS 'MODULE_PATHNAME', 'rec_trending';
COMMENT ON FUNCTION @extschema@.trending IS 'pg_recommend: the model''s items by time-decayed interaction count in its source, highest first (kept per backend for a minute)';

-- "Because you watched X" rows: items similar to the user's strongest interactions, no item twice.
CREATE FUNCTION @extschema@.because_you_watched(
    user_id    anycompatible,
    rows       integer DEFAULT 3,
    n          integer DEFAULT 10,
    model      text DEFAULT NULL,
    candidates "any" DEFAULT NULL,                -- an array of item ids: only these may be returned
    exclude    "any" DEFAULT NULL,                -- an array of item ids: never these
    diversity    real DEFAULT 0,          -- 0: relevance alone .. 1: most diverse (maximal marginal relevance)
    group_table  text DEFAULT NULL,       -- (item id, group): with per_group_limit, at most that many of a group
    per_group_limit integer DEFAULT NULL,
    log_impressions boolean DEFAULT false)  -- record each row in rec.impressions
RETURNS TABLE (anchor_item bigint, rank integer, item_id bigint, score real)
LANGUAGE C STABLE PARALLEL SAFE ROWS 30
AS 'MODULE_PATHNAME', 'rec_because_you_watched';
COMMENT ON FUNCTION @extschema@.because_you_watched IS 'pg_recommend: rows of items similar to each of the user''s strongest interactions (the anchors), the user''s items and earlier rows'' items left out';

-- Data quality before training.
CREATE FUNCTION @extschema@.profile(
    source        text,
    user_column   text DEFAULT 'user_id',
    item_column   text DEFAULT 'item_id',
    rating_column text DEFAULT 'rating',      -- NULL: every row counts 1
    time_column   text DEFAULT NULL)          -- timestamp[tz], date or epoch seconds
RETURNS TABLE (finding text, severity text, value float8, detail text)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'rec_profile';
COMMENT ON FUNCTION @extschema@.profile IS 'pg_recommend: what a source of interactions looks like before training: sizes, NULLs, NaN, duplicates, value histogram and out-of-range values, sparse users and items, suspected bots and bursts, popularity concentration, time span';

-- A/B tests between versions: rec.deploy(model, version, traffic => 0.1) serves a version to a share of
-- users, chosen by a hash of the user id and the model name (the same in every session and server).
CREATE FUNCTION @extschema@.served_version(model text, user_id anycompatible)
RETURNS integer
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'rec_served_version';
COMMENT ON FUNCTION @extschema@.served_version IS 'pg_recommend: the version of the model that serves this user now (an A/B test''s challenger or the version deployed to everyone)';

CREATE FUNCTION @extschema@.promote(model text)
RETURNS integer
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'rec_promote';
COMMENT ON FUNCTION @extschema@.promote IS 'pg_recommend: deploy the A/B test''s challenger to everyone, ending the test (transactional); returns its version';

-- Feedback: what was shown to whom, by which version, when. One row per list; an item's position is its
-- index in items. Written by rec.recommend(..., log_impressions => true) and rec.log_impressions only
-- (as the extension's owner); readable like the model itself. Append-only and without an index:
-- rec.prune_impressions deletes old rows.
CREATE TABLE @extschema@.impressions (
    model     text NOT NULL,
    version   integer NOT NULL,
    user_id   text NOT NULL,                        -- ids as text: integer digits, a text or uuid id's text
    items     text[] NOT NULL,                      -- best first
    shown_at  timestamptz NOT NULL,
    served_by text NOT NULL                         -- 'recommend', 'because_you_watched', or 'application' (rec.log_impressions)
);
ALTER TABLE @extschema@.impressions ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON @extschema@.impressions FOR SELECT USING (
    EXISTS (SELECT 1 FROM @extschema@.model_versions v WHERE v.name = impressions.model));
SELECT pg_catalog.pg_extension_config_dump('@extschema@.impressions', '');
GRANT SELECT ON @extschema@.impressions TO PUBLIC;
COMMENT ON TABLE @extschema@.impressions IS 'pg_recommend: the lists shown to users (model, version, user, items best first, when, by what), for online metrics and A/B tests';

CREATE FUNCTION @extschema@.log_impressions(
    model    text,
    user_id  anycompatible,
    items    anycompatiblearray,                    -- as shown, best first
    version  integer DEFAULT NULL)                  -- NULL: the version serving the user now
RETURNS integer
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'rec_log_impressions';
COMMENT ON FUNCTION @extschema@.log_impressions IS 'pg_recommend: record a list of items the application showed a user; returns how many items';

CREATE FUNCTION @extschema@.prune_impressions(model text, older_than interval DEFAULT '30 days')
RETURNS bigint
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'rec_prune_impressions';
COMMENT ON FUNCTION @extschema@.prune_impressions IS 'pg_recommend: delete the model''s impressions shown longer ago than older_than; owner only; returns how many lists';

-- Online metrics: an impression (an item at position <= k of a logged list) is clicked when the feedback
-- source has a row for its user and item within click_window after it was shown.
CREATE FUNCTION @extschema@.online_metrics(
    model           text,
    feedback_source text,
    since           timestamptz DEFAULT now() - interval '7 days',
    k               integer DEFAULT 10,
    user_column     text DEFAULT 'user_id',
    item_column     text DEFAULT 'item_id',
    time_column     text DEFAULT 'created_at',      -- timestamp[tz], date or epoch seconds
    click_window    interval DEFAULT '1 day')
RETURNS TABLE (version integer, users bigint, lists bigint, impressions bigint, clicks bigint,
               ctr double precision, ctr_low double precision, ctr_high double precision,
               hit_rate double precision, hit_rate_low double precision, hit_rate_high double precision,
               mrr double precision, mrr_low double precision, mrr_high double precision)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'rec_online_metrics';
COMMENT ON FUNCTION @extschema@.online_metrics IS 'pg_recommend: per served version: users, lists, impressions, clicks, CTR, hit rate@k and MRR of clicked items, with 95% intervals';

CREATE FUNCTION @extschema@.compare_versions(
    model           text,
    feedback_source text,
    since           timestamptz DEFAULT now() - interval '7 days',
    k               integer DEFAULT 10,
    user_column     text DEFAULT 'user_id',
    item_column     text DEFAULT 'item_id',
    time_column     text DEFAULT 'created_at',
    click_window    interval DEFAULT '1 day')
RETURNS TABLE (version integer, role text, users bigint, lists bigint, impressions bigint, clicks bigint,
               ctr double precision, ctr_low double precision, ctr_high double precision,
               hit_rate double precision, hit_rate_low double precision, hit_rate_high double precision,
               mrr double precision, mrr_low double precision, mrr_high double precision,
               ctr_difference double precision, difference_low double precision, difference_high double precision,
               p_value double precision, verdict text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'rec_compare_versions';
COMMENT ON FUNCTION @extschema@.compare_versions IS 'pg_recommend: the online metrics of the served version and of every other version shown since, each against the served one: CTR difference, its 95% interval, the two-proportion z-test''s p-value and a verdict';

-- Model health: is the deployed version still fit for what arrives? See docs/sql.md, "Model health".
CREATE FUNCTION @extschema@.model_health(model text)
RETURNS TABLE (name text, version integer, trained_at timestamptz, age interval, source text,
               source_rows bigint, new_interactions bigint, new_share double precision,
               unknown_users bigint, cold_user_share double precision,
               unknown_items bigint, cold_item_share double precision,
               popularity_psi double precision,
               ctr_last_week double precision, ctr_week_before double precision,
               action text, reason text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $health$
DECLARE
    v @extschema@.model_versions;
    time_column text := NULL;
    time_type regtype;
    time_expr text;
    newer text := 'true';                   -- an interaction after the training data
    user_col text;
    item_col text;
    source_users bigint;
    source_items bigint;
    week_impressions bigint;                -- the deployed version's, the last 7 days and the last 14
    week_clicks bigint;
    fortnight_impressions bigint;
    fortnight_clicks bigint;
BEGIN
    IF model IS NULL THEN
        RAISE EXCEPTION 'model must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT mv.* INTO v FROM @extschema@.models m JOIN @extschema@.model_versions mv ON mv.model_id = m.model_id
    WHERE m.name = model_health.model AND m.deployed;
    IF NOT FOUND THEN
        PERFORM FROM @extschema@.model_versions mv WHERE mv.name = model_health.model;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = '42704',
                HINT = 'SELECT name FROM rec.models lists the models you may read.';
        END IF;
        RAISE EXCEPTION 'model "%" has no deployed version', model USING ERRCODE = '55000',
            HINT = format('Deploy one with SELECT rec.deploy(%L, version).', model);
    END IF;
    name := v.name;
    version := v.version;
    trained_at := v.trained_at;
    age := now() - v.trained_at;
    source := v.source;
    user_col := quote_ident(v.user_column);
    item_col := quote_ident(v.item_column);

    -- New interactions: those after the newest one trained on, by the model's time_column; without
    -- one, the rows beyond those trained on.
    time_column := v.hyperparameters->>'time_column';
    IF time_column IS NOT NULL THEN
        SELECT a.atttypid::regtype INTO time_type FROM pg_attribute a
        WHERE a.attrelid = v.source::regclass AND a.attname = time_column AND NOT a.attisdropped;
        time_expr := CASE WHEN time_type IN ('timestamp'::regtype, 'timestamptz'::regtype, 'date'::regtype)
                          THEN format('extract(epoch FROM s.%I)::float8', time_column)
                          ELSE format('s.%I::float8', time_column) END;
        newer := format('%s > %s', time_expr,
                        coalesce(v.hyperparameters->>'newest_time', extract(epoch FROM v.trained_at)::text));
    END IF;
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE %s) FROM %s s', newer, v.source)
        INTO source_rows, new_interactions;
    IF time_column IS NULL THEN
        new_interactions := greatest(source_rows - v.n_ratings, 0);
    END IF;
    new_share := new_interactions::float8 / greatest(v.n_ratings, 1);

    -- Users and items of the source the model does not know (text and uuid ids by their text).
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM @extschema@.user_factors f '
                   'WHERE f.model_id = $1 AND %s)) FROM (SELECT DISTINCT s.%s AS id FROM %s s WHERE s.%s IS NOT NULL) d',
                   CASE WHEN v.user_type IN ('text'::regtype, 'varchar'::regtype, 'uuid'::regtype)
                        THEN 'f.user_key = d.id::text' ELSE 'f.user_id = d.id::int8' END,
                   user_col, v.source, user_col)
        USING v.model_id INTO source_users, unknown_users;
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM @extschema@.item_factors f '
                   'WHERE f.model_id = $1 AND %s)) FROM (SELECT DISTINCT s.%s AS id FROM %s s WHERE s.%s IS NOT NULL) d',
                   CASE WHEN v.item_type IN ('text'::regtype, 'varchar'::regtype, 'uuid'::regtype)
                        THEN 'f.item_key = d.id::text' ELSE 'f.item_id = d.id::int8' END,
                   item_col, v.source, item_col)
        USING v.model_id INTO source_items, unknown_items;
    cold_user_share := unknown_users::float8 / nullif(source_users, 0);
    cold_item_share := unknown_items::float8 / nullif(source_items, 0);

    -- Drift: the population stability index of item popularity, training against the new interactions,
    -- over 11 bins: the training popularity deciles (by interactions) and the items the model lacks.
    IF new_interactions > 0 THEN
        EXECUTE format(
            'WITH trained AS (SELECT f.item_id, f.item_key, f.n_ratings, sum(f.n_ratings) OVER () AS total, '
            '  sum(f.n_ratings) OVER (ORDER BY f.n_ratings DESC, f.item_id ROWS UNBOUNDED PRECEDING) - f.n_ratings AS before '
            '  FROM @extschema@.item_factors f WHERE f.model_id = $1), '
            'bins AS (SELECT item_id, item_key, n_ratings, least(9, floor(10 * before / greatest(total, 1)))::int AS bin FROM trained), '
            'p AS (SELECT bin, sum(n_ratings)::float8 / greatest((SELECT sum(n_ratings) FROM bins), 1) AS share FROM bins GROUP BY bin), '
            'recent AS (SELECT s.%s AS id, count(*) AS n FROM %s s WHERE %s AND s.%s IS NOT NULL GROUP BY 1), '
            'q AS (SELECT coalesce(b.bin, 10) AS bin, sum(r.n)::float8 / (SELECT sum(n) FROM recent) AS share '
            '  FROM recent r LEFT JOIN bins b ON %s GROUP BY 1) '
            'SELECT sum((coalesce(q.share, 0) - coalesce(p.share, 0)) '
            '           * ln((coalesce(q.share, 0) + 1e-4) / (coalesce(p.share, 0) + 1e-4))) '
            'FROM generate_series(0, 10) g(bin) LEFT JOIN p USING (bin) LEFT JOIN q USING (bin)',
            item_col, v.source, newer, item_col,
            CASE WHEN v.item_type IN ('text'::regtype, 'varchar'::regtype, 'uuid'::regtype)
                 THEN 'b.item_key = r.id::text' ELSE 'b.item_id = r.id::int8' END)
            USING v.model_id INTO popularity_psi;
    END IF;

    -- Online CTR of the deployed version, the last 7 days against the 7 before, clicks being the model's
    -- source's own rows (needs its time_column and logged impressions).
    IF time_column IS NOT NULL THEN
        SELECT o.impressions, o.clicks INTO week_impressions, week_clicks
        FROM @extschema@.online_metrics(v.name, v.source, now() - interval '7 days', 10, v.user_column,
                                        v.item_column, time_column) o WHERE o.version = v.version;
        SELECT o.impressions, o.clicks INTO fortnight_impressions, fortnight_clicks
        FROM @extschema@.online_metrics(v.name, v.source, now() - interval '14 days', 10, v.user_column,
                                        v.item_column, time_column) o WHERE o.version = v.version;
        ctr_last_week := week_clicks::float8 / nullif(week_impressions, 0);
        ctr_week_before := (fortnight_clicks - coalesce(week_clicks, 0))::float8
                           / nullif(fortnight_impressions - coalesce(week_impressions, 0), 0);
    END IF;

    -- The rule (docs/sql.md, "Model health"): retrain for a popularity shift, much new data or a CTR
    -- fall; refresh for new users or some new data; else ok.
    IF popularity_psi >= 0.25 AND new_interactions >= 100 THEN
        action := 'retrain';
        reason := format('item popularity shifted: PSI %s >= 0.25 over %s new interactions',
                         round(popularity_psi::numeric, 3), new_interactions);
    ELSIF new_share >= 0.5 THEN
        action := 'retrain';
        reason := format('%s new interactions, %s%% of those trained on', new_interactions, round(100 * new_share::numeric, 1));
    ELSIF ctr_last_week < 0.8 * ctr_week_before AND week_impressions >= 1000
          AND fortnight_impressions - week_impressions >= 1000 THEN
        action := 'retrain';
        reason := format('CTR fell from %s to %s week on week', round(ctr_week_before::numeric, 4),
                         round(ctr_last_week::numeric, 4));
    ELSIF new_share >= 0.05 OR cold_user_share >= 0.05 THEN
        action := 'refresh';
        reason := format('%s new interactions (%s%%), %s users the model does not know: rec.refresh_users folds them in',
                         new_interactions, round(100 * new_share::numeric, 1), unknown_users);
    ELSE
        action := 'ok';
        reason := NULL;
    END IF;
    RETURN NEXT;
END
$health$;
COMMENT ON FUNCTION @extschema@.model_health IS 'pg_recommend: whether a model''s deployed version still fits its source: new interactions, unknown users and items, popularity drift (PSI), online CTR week on week, and a recommended action (ok, refresh, retrain)';

CREATE VIEW @extschema@.model_health WITH (security_invoker = true) AS
SELECT h.* FROM (SELECT DISTINCT m.name FROM @extschema@.models m WHERE m.deployed) d,
     LATERAL @extschema@.model_health(d.name) h;
COMMENT ON VIEW @extschema@.model_health IS 'pg_recommend: rec.model_health(model) for every deployed model the caller may read (reads each model''s source: a periodic check, not a hot path)';
GRANT SELECT ON @extschema@.model_health TO PUBLIC;

-- What a distributed rec.train runs (issue 15): on the coordinator, the packed half-step it sends to
-- the workers, in chunks (for broadcast_intermediate_result); on each worker, one row's new bias and
-- factors from its raw interactions and that half-step (named by its intermediate result).
CREATE FUNCTION @extschema@.distributed_factors(token bigint)
RETURNS SETOF bytea
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'rec_distributed_factors';
COMMENT ON FUNCTION @extschema@.distributed_factors IS 'pg_recommend: internal, run by rec.train on a Citus coordinator: the packed half-step this session is sending, in chunks of 1 MB';

CREATE FUNCTION @extschema@.distributed_solve_row(own_id bigint, ids bigint[], vals real[], half_step text)
RETURNS bytea
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'rec_distributed_solve_row';
COMMENT ON FUNCTION @extschema@.distributed_solve_row IS 'pg_recommend: internal, run by rec.train on Citus workers: a row''s bias, factors, loss and entries (packed) from its interactions and the packed half-step named by a Citus intermediate result';

-- Serving from the Citus workers (issue 15): which versions rec.distribute_model installed on the
-- workers, at which revision, and how their users are placed. Only pg_recommend writes it; rec.recommend
-- on the coordinator reads it to hand a known user's call to the worker holding the user's shard.
CREATE TABLE @extschema@.replicas (
    model_id    bigint PRIMARY KEY,     -- a row whose version was dropped is ignored (joined with model_versions)
    revision    integer NOT NULL,   -- the version's revision installed (a refresh after it stops the hand-off)
    source      text NOT NULL,      -- the distributed table placing the users, schema-qualified
    user_column text NOT NULL,      -- its distribution column, quoted
    user_type   text NOT NULL,      -- that column's type
    workers     integer NOT NULL,   -- workers that got the version
    placed_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE @extschema@.replicas IS 'pg_recommend: model versions installed on the Citus workers by rec.distribute_model (coordinator only)';

CREATE FUNCTION @extschema@.distribute_model(model text)
RETURNS integer
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'rec_distribute_model';
COMMENT ON FUNCTION @extschema@.distribute_model IS 'pg_recommend: installs a model''s deployed version on the Citus workers holding its users, so that rec.recommend on the coordinator is answered by the worker owning each user; returns the number of workers';

-- What rec.distribute_model runs on each worker, as the extension's owner.
CREATE FUNCTION @extschema@.install_replica(version jsonb, items jsonb, users jsonb, grants jsonb, routed_by bigint)
RETURNS integer
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'rec_install_replica';
REVOKE ALL ON FUNCTION @extschema@.install_replica(jsonb, jsonb, jsonb, jsonb, bigint) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.install_replica IS 'pg_recommend: internal, run by rec.distribute_model on each Citus worker: replaces the worker''s copy of a model with the version given';

-- Factors as pgvector vectors (issue 16): the deployed version's item (or user) factors written to a new
-- table (id, embedding vector(k + 2)) with the biases folded in, so that the inner product of a user's
-- and an item's vectors is rec.predict's score (before explicit ratings are clipped to their range):
-- user [p_u, b_u + μ, 1], item [q_i, 1, b_i] (μ and the biases are 0 for ials). pgvector's <#> is the
-- negative inner product, so ORDER BY embedding <#> user_vector ranks as rec.recommend does.
CREATE FUNCTION @extschema@.export_vectors(model text, target_table text, side text DEFAULT 'item')
RETURNS bigint
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'rec_export_vectors';
COMMENT ON FUNCTION @extschema@.export_vectors IS 'pg_recommend: the deployed version''s item (or user) factors as pgvector vectors in a new table (id, embedding), biases folded in so that the inner product of a user and an item is the predicted score';
