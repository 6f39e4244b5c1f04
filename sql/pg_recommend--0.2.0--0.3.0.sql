-- pg_recommend 0.2.0 -> 0.3.0: rec.train takes confidence (implicit ALS: the `implicit` library's
-- confidence alpha * value, or Hu, Koren and Volinsky's 1 + alpha * value) and noise_variance
-- (explicit ALS by variational Bayes), solver and cg_steps now apply to explicit ALS too, the
-- factor tables' arrays are stored without compression, and similar_items, recommend_for_items
-- and recommend_all take candidates and exclude, as recommend does.
\echo Use "ALTER EXTENSION pg_recommend UPDATE TO '0.3.0'" to load this file. \quit

-- Factor and id arrays barely compress: stored out of line without a compression attempt (storing a
-- model of 9 M ratings spent a fifth of its time in pglz).
ALTER TABLE @extschema@.user_factors ALTER COLUMN factors SET STORAGE EXTERNAL,
    ALTER COLUMN seen_items SET STORAGE EXTERNAL, ALTER COLUMN seen_values SET STORAGE EXTERNAL;
ALTER TABLE @extschema@.item_factors ALTER COLUMN factors SET STORAGE EXTERNAL;

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

DROP PROCEDURE @extschema@.train(text, text, text, text, text, text, integer, integer, double precision, bigint,
                                 double precision, double precision, double precision, integer, text,
                                 double precision, boolean, boolean, text, boolean, boolean);
CREATE PROCEDURE @extschema@.train(
    model          text,
    source         text,
    user_column    text DEFAULT 'user_id',
    item_column    text DEFAULT 'item_id',
    rating_column  text DEFAULT 'rating',
    algorithm      text DEFAULT 'als',
    factors        integer DEFAULT 64,
    iterations     integer DEFAULT NULL,            -- NULL: 10 for als, 15 for ials, 100 for bpr
    regularization double precision DEFAULT NULL,   -- NULL: 0.05 for als, 0.01 for ials and bpr
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
    max_user_interactions integer DEFAULT NULL)     --   dropping users above this (bots)
LANGUAGE C AS 'MODULE_PATHNAME', 'rec_train';
COMMENT ON PROCEDURE @extschema@.train IS 'pg_recommend: train a new version of a recommender model from a table or view';

-- candidates and exclude on similar_items, recommend_for_items and recommend_all: new arguments, so the functions are
-- replaced (nothing of the extension's depends on them).
DROP FUNCTION @extschema@.recommend_for_items(anycompatiblearray, real[], integer, text);
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

DROP FUNCTION @extschema@.similar_items(anycompatible, integer, text);
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

DROP FUNCTION @extschema@.recommend_all(text, integer, text);
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

-- diversity, group_table and per_group_limit on recommend (both forms), recommend_for_items (above) and
-- because_you_watched: new arguments, so recommend is replaced too.
DROP FUNCTION @extschema@.recommend(anycompatible, integer, text, boolean, bigint[], bigint[]);
DROP FUNCTION @extschema@.recommend(anycompatible, anyelement, integer, text, boolean, "any", "any");
CREATE FUNCTION @extschema@.recommend(
    user_id      anycompatible,
    n            integer DEFAULT 10,
    model        text DEFAULT NULL,
    exclude_seen boolean DEFAULT true,
    candidates   bigint[] DEFAULT NULL,   -- only these items may be returned
    exclude      bigint[] DEFAULT NULL,   -- never these
    diversity    real DEFAULT 0,          -- 0: relevance alone .. 1: most diverse (maximal marginal relevance)
    group_table  text DEFAULT NULL,       -- (item id, group): with per_group_limit, at most that many of a group
    per_group_limit integer DEFAULT NULL)
RETURNS TABLE (item_id bigint, score real)
LANGUAGE C STABLE PARALLEL SAFE ROWS 10
AS 'MODULE_PATHNAME', 'rec_recommend';
COMMENT ON FUNCTION @extschema@.recommend(anycompatible, integer, text, boolean, bigint[], bigint[], real, text, integer) IS 'pg_recommend: top n items for a user, best first (integer item ids)';

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
    per_group_limit integer DEFAULT NULL)
RETURNS TABLE (item_id anyelement, score real)
LANGUAGE C STABLE PARALLEL SAFE ROWS 10
AS 'MODULE_PATHNAME', 'rec_recommend_typed';
COMMENT ON FUNCTION @extschema@.recommend(anycompatible, anyelement, integer, text, boolean, "any", "any", real, text, integer) IS 'pg_recommend: top n items for a user, best first, the item ids of the type named by item_type';

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
    per_group_limit integer DEFAULT NULL)
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

-- rec.evaluate takes group_column and returns each metric's group (a new result column: replaced).
DROP FUNCTION @extschema@.evaluate(text, text, integer, text, text, text, double precision);
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
