-- pg_recommend 0.2.0 -> 0.3.0: rec.train takes confidence (implicit ALS: the `implicit` library's
-- confidence alpha * value, or Hu, Koren and Volinsky's 1 + alpha * value) and noise_variance
-- (explicit ALS by variational Bayes), solver and cg_steps now apply to explicit ALS too, the
-- factor tables' arrays are stored without compression, and similar_items, recommend_for_items
-- and recommend_all take candidates and exclude, as recommend does; rec.profile, cleaning and the
-- bias report; A/B tests, impressions and online metrics; item-item models (ease, itemknn) and
-- their weights table.
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

-- diversity, group_table, per_group_limit and log_impressions on recommend (both forms), recommend_for_items (above) and
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

-- A/B tests: each deployment serves a share of users (traffic); rec.models shows each version's share.
ALTER TABLE @extschema@.deployments ADD COLUMN traffic double precision NOT NULL DEFAULT 1
    CHECK (traffic > 0 AND traffic <= 1);
DROP VIEW @extschema@.models;
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
GRANT SELECT ON @extschema@.models TO PUBLIC;

DROP FUNCTION @extschema@.deploy(text, integer);
CREATE FUNCTION @extschema@.deploy(model text, version integer, traffic double precision DEFAULT 1)
RETURNS integer
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'rec_deploy';
COMMENT ON FUNCTION @extschema@.deploy IS 'pg_recommend: serve this version of the model from now on, to everyone or (traffic < 1, an A/B test) to that share of users (transactional); returns the version';

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
