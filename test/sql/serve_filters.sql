-- Filters are applied before the top n are chosen: n rows come back whenever n items are eligible.
SET client_min_messages = warning;
CALL rec.train('filters', 'ratings', factors => 16, iterations => 10, regularization => 0.1);
-- For 100 users: candidates are 25 popular items (some already seen), minus an exclude list.
CREATE TEMP TABLE popular AS
SELECT array_agg(item_id ORDER BY count DESC, item_id) AS items
FROM (SELECT item_id, count(*) FROM ratings GROUP BY item_id ORDER BY count(*) DESC, item_id LIMIT 25) p;
SELECT count(*) AS users_checked,
       count(*) FILTER (WHERE returned <> least(10, eligible)) AS users_short_of_n,
       count(*) FILTER (WHERE not_allowed > 0) AS users_given_excluded_items,
       count(*) FILTER (WHERE eligible >= 10) AS users_with_10_eligible
FROM (
    SELECT u,
           (SELECT count(*) FROM rec.recommend(u, 10, 'filters', candidates => p.items,
                                               exclude => p.items[1:5])) AS returned,
           (SELECT count(*) FROM rec.recommend(u, 10, 'filters', candidates => p.items, exclude => p.items[1:5]) r
            WHERE r.item_id = ANY (p.items[1:5]) OR r.item_id NOT IN (SELECT unnest(p.items))
               OR r.item_id IN (SELECT item_id FROM ratings WHERE user_id = u)) AS not_allowed,
           (SELECT count(*) FROM unnest(p.items[6:25]) c(item_id)
            WHERE c.item_id NOT IN (SELECT item_id FROM ratings WHERE user_id = u)) AS eligible
    FROM generate_series(1, 100) u, popular p) checks;
-- Excluding a user's 200 best items still returns 10, none of them excluded or seen.
SELECT count(*) AS returned,
       count(*) FILTER (WHERE item_id IN (SELECT item_id FROM rec.recommend(7, 200, 'filters'))) AS excluded_returned
FROM rec.recommend(7, 10, 'filters', exclude => (SELECT array_agg(item_id) FROM rec.recommend(7, 200, 'filters')));
-- Unknown ids and NULLs in the arrays are ignored; repeated candidates come back once.
SELECT item_id FROM rec.recommend(1, 10, 'filters', candidates => ARRAY[1, 1, NULL, -5, 999999999, 2],
                                  exclude => ARRAY[NULL, 2]::bigint[], exclude_seen => false);
-- An empty candidate list means nothing is eligible; an unknown user gets the most rated candidates.
SELECT count(*) FROM rec.recommend(1, 10, 'filters', candidates => '{}');
SELECT r.item_id = p.items[2] AS most_rated_candidate_first
FROM rec.recommend(424242, 1, 'filters', candidates => (SELECT items[2:10] FROM popular)) r, popular p;

-- Similar items and users, by cosine of their factors.
SELECT count(*) AS rows, bool_and(item_id <> 1) AS self_left_out,
       bool_and(similarity BETWEEN -1.0001 AND 1.0001) AS cosine_range
FROM rec.similar_items(1, 10, 'filters');
SELECT bool_and(similarity >= next) AS descending
FROM (SELECT similarity, lead(similarity) OVER () AS next FROM rec.similar_items(1, 50, 'filters')) s
WHERE next IS NOT NULL;
SELECT abs(a.similarity - b.similarity) < 1e-6 AS symmetric
FROM rec.similar_items(1, 1, 'filters') a, LATERAL rec.similar_items(a.item_id, 10000, 'filters') b
WHERE b.item_id = 1;
SELECT count(*) AS rows, bool_and(user_id <> 3) AS self_left_out FROM rec.similar_users(3, 5, 'filters');
SELECT count(*) AS unknown_item FROM rec.similar_items(999999999, 5, 'filters');
SELECT count(*) AS null_item FROM rec.similar_items(NULL, 5, 'filters');
SELECT count(*) AS zero FROM rec.similar_users(3, 0, 'filters');
SELECT error_of($$SELECT * FROM rec.similar_items(1, -1, 'filters')$$);
SELECT error_of($$SELECT * FROM rec.similar_users(1, NULL, 'filters')$$);
-- Joined with titles, as users would.
SELECT count(m.title) AS titled FROM rec.similar_items(1, 5, 'filters') s JOIN movies m USING (item_id);

-- Fold-in: a user's own training items (with their ratings) give nearly the stored-factor top 10.
SELECT count(*) AS users, min(overlap) AS worst_overlap, round(avg(overlap), 1) >= 8 AS mostly_the_same
FROM (SELECT u, (SELECT count(*) FROM rec.recommend_for_items(
                      (SELECT array_agg(item_id ORDER BY item_id) FROM ratings WHERE user_id = u),
                      (SELECT array_agg(rating ORDER BY item_id) FROM ratings WHERE user_id = u), 10, 'filters') f
                  JOIN rec.recommend(u, 10, 'filters') r USING (item_id)) AS overlap
      FROM generate_series(1, 30) u) o;
CALL rec.train('filters_ials', 'ratings', rating_column => NULL, algorithm => 'ials', factors => 16, iterations => 10);
SELECT min(overlap) AS worst_overlap_ials
FROM (SELECT u, (SELECT count(*) FROM rec.recommend_for_items(
                      (SELECT array_agg(item_id) FROM ratings WHERE user_id = u), NULL, 10, 'filters_ials') f
                  JOIN rec.recommend(u, 10, 'filters_ials') r USING (item_id)) AS overlap
      FROM generate_series(1, 30) u) o;
-- The given items are never recommended back; unknown ids and NULLs are ignored.
SELECT count(*) AS rows, bool_and(item_id NOT IN (1, 2, 3)) AS given_left_out
FROM rec.recommend_for_items(ARRAY[1, 2, 3, NULL, 999999999], ARRAY[5, 4, 5, 3, 1]::real[], 10, 'filters');
-- Nothing known: the most rated items.
SELECT r.item_id = (SELECT item_id FROM ratings GROUP BY item_id ORDER BY count(*) DESC, item_id LIMIT 1) AS most_rated
FROM rec.recommend_for_items(ARRAY[999999999], NULL, 1, 'filters') r;
SELECT count(*) FROM rec.recommend_for_items(NULL, NULL, 10, 'filters');
CALL rec.train('filters_bpr', 'ratings', rating_column => NULL, algorithm => 'bpr', factors => 4, iterations => 1);
SELECT error_of($$SELECT * FROM rec.recommend_for_items(ARRAY[1], NULL, 10, 'filters_bpr')$$);
SELECT error_of($$SELECT * FROM rec.recommend_for_items(ARRAY[1, 2], ARRAY[5]::real[], 10, 'filters')$$);
SELECT error_of($$SELECT * FROM rec.recommend_for_items(ARRAY[1], ARRAY['NaN']::real[], 10, 'filters')$$);
SELECT error_of($$SELECT * FROM rec.recommend_for_items(ARRAY[1], ARRAY[-1]::real[], 10, 'filters_ials')$$);
SELECT error_of($$SELECT * FROM rec.recommend_for_items(ARRAY[1], NULL, -1, 'filters')$$);

-- similar_items and recommend_for_items filter first too (candidates, exclude): excluding the 30 most
-- similar items still returns 10, none of them excluded.
SELECT count(*) AS returned,
       count(*) FILTER (WHERE item_id IN (SELECT item_id FROM rec.similar_items(1, 30, 'filters'))) AS excluded_returned
FROM rec.similar_items(1, 10, 'filters', exclude => (SELECT array_agg(item_id) FROM rec.similar_items(1, 30, 'filters')));
-- Candidates: the 25 popular items, minus the query item (popular[1]) and an excluded one: all 23 come
-- back, in the order of the unfiltered list.
SELECT count(*) AS returned,
       array_agg(s.item_id ORDER BY s.ord) = (SELECT array_agg(a.item_id ORDER BY a.ord)
                                              FROM popular p2, rec.similar_items(p2.items[1], 100000, 'filters')
                                                   WITH ORDINALITY a(item_id, similarity, ord)
                                              WHERE a.item_id = ANY (p2.items[3:25])) AS unfiltered_order
FROM popular p, rec.similar_items(p.items[1], 30, 'filters', candidates => p.items, exclude => p.items[2:2])
     WITH ORDINALITY s(item_id, similarity, ord);
SELECT count(*) AS none_eligible FROM rec.similar_items(1, 10, 'filters', candidates => '{}');
-- recommend_for_items: excluding the 30 best for user 1's items still returns 10, none excluded or given.
WITH given AS (SELECT array_agg(item_id) AS items, array_agg(rating) AS ratings FROM ratings WHERE user_id = 1),
     best AS (SELECT array_agg(r.item_id) AS items FROM given g, rec.recommend_for_items(g.items, g.ratings, 30, 'filters') r)
SELECT count(*) AS returned, count(*) FILTER (WHERE r.item_id = ANY (b.items) OR r.item_id = ANY (g.items)) AS excluded_or_given
FROM given g, best b, rec.recommend_for_items(g.items, g.ratings, 10, 'filters', exclude => b.items) r;
-- Candidates: popular items not given and not excluded, every one of them back (n above their number).
WITH given AS (SELECT array_agg(item_id) AS items, array_agg(rating) AS ratings FROM ratings WHERE user_id = 1)
SELECT count(*) = (SELECT count(*) FROM popular p2, given g2, unnest(p2.items[6:25]) c(item_id)
                   WHERE c.item_id <> ALL (g2.items)) AS every_eligible_returned,
       bool_and(r.item_id = ANY (p.items[6:25]) AND r.item_id <> ALL (g.items)) AS only_eligible
FROM given g, popular p,
     rec.recommend_for_items(g.items, g.ratings, 25, 'filters', candidates => p.items, exclude => p.items[1:5]) r;
-- Nothing known: the most rated of the candidates.
SELECT r.item_id = p.items[2] AS most_rated_candidate_first
FROM popular p, rec.recommend_for_items(ARRAY[999999999], NULL, 1, 'filters', candidates => p.items[2:10]) r;

-- recommend_all writes every user's top n to a new table, the same lists rec.recommend gives.
SELECT rec.recommend_all('filters', 5, 'all_recs');
SELECT count(*) AS rows, count(DISTINCT user_id) AS users, min(rank) AS first_rank, max(rank) AS last_rank
FROM all_recs;
-- Where two items' scores are equal within float rounding (items with the same ratings by the same
-- users, solved from different starting points) they may trade places; any other difference counts.
SELECT count(*) AS users_with_other_lists
FROM (SELECT user_id, array_agg(item_id::bigint ORDER BY rank) AS items, array_agg(score ORDER BY rank) AS scores
      FROM all_recs GROUP BY user_id) a,
     LATERAL (SELECT array_agg(item_id) AS items, array_agg(score) AS scores FROM rec.recommend(a.user_id, 5, 'filters')) r
WHERE a.items IS DISTINCT FROM r.items
  AND (cardinality(a.items) <> cardinality(r.items)
       OR EXISTS (SELECT 1 FROM unnest(a.scores, r.scores) s(x, y) WHERE abs(x - y) > 1e-5 * abs(y) + 1e-6));
SELECT count(*) AS seen_items_recommended FROM all_recs a JOIN ratings r USING (user_id, item_id);
-- With exclude (every user's 5 best, the 25 popular items) and with candidates (the popular items), the
-- lists are rec.recommend's with the same filters, never short.
SELECT rec.recommend_all('filters', 5, 'excluded_recs', exclude => (SELECT items FROM popular));
SELECT rec.recommend_all('filters', 5, 'candidate_recs', candidates => (SELECT items FROM popular),
                         exclude => (SELECT items[1:3] FROM popular));
SELECT t.name, count(*) AS users_compared,
       count(*) FILTER (WHERE a.items IS DISTINCT FROM r.items
                          AND (cardinality(a.items) <> cardinality(r.items)
                               OR EXISTS (SELECT 1 FROM unnest(a.scores, r.scores) s(x, y)
                                          WHERE abs(x - y) > 1e-5 * abs(y) + 1e-6))) AS users_with_other_lists
FROM (VALUES ('excluded_recs'), ('candidate_recs')) t(name),
     LATERAL (SELECT user_id, array_agg(item_id::bigint ORDER BY rank) AS items, array_agg(score ORDER BY rank) AS scores
              FROM excluded_recs WHERE t.name = 'excluded_recs' GROUP BY user_id
              UNION ALL
              SELECT user_id, array_agg(item_id::bigint ORDER BY rank), array_agg(score ORDER BY rank)
              FROM candidate_recs WHERE t.name = 'candidate_recs' GROUP BY user_id) a,
     popular p,
     LATERAL (SELECT array_agg(item_id) AS items, array_agg(score) AS scores
              FROM rec.recommend(a.user_id, 5, 'filters',
                                 candidates => CASE WHEN t.name = 'candidate_recs' THEN p.items END,
                                 exclude => CASE WHEN t.name = 'candidate_recs' THEN p.items[1:3] ELSE p.items END)) r
GROUP BY t.name ORDER BY t.name;
SELECT (SELECT count(*) FROM excluded_recs e, popular p WHERE e.item_id = ANY (p.items)) AS excluded_returned,
       (SELECT count(*) FROM candidate_recs c, popular p WHERE c.item_id <> ALL (p.items[4:25])) AS non_candidates_returned,
       (SELECT count(DISTINCT user_id) FROM excluded_recs) AS users;
DROP TABLE excluded_recs, candidate_recs;
SELECT error_of($$SELECT rec.recommend_all('filters', 5, 'bad_recs', candidates => 5)$$);
SELECT error_of($$SELECT rec.recommend_all('filters', 5, 'all_recs')$$);
SELECT error_of($$SELECT rec.recommend_all('filters', 5, 'no_such_schema.recs')$$);
SELECT error_of($$SELECT rec.recommend_all('filters', -1, 'other_recs')$$);
SELECT error_of($$SELECT rec.recommend_all('filters', 5, 'x; DROP TABLE movies')$$);
SELECT rec.recommend_all('filters', 0, '"Mixed Case"');
SELECT count(*) FROM "Mixed Case";
-- A huge n: blocks shrink so that results stay within rec.max_memory (every user gets every unseen item).
SET rec.max_memory = '16MB';
SELECT rec.recommend_all('filters', 2147483647, 'all_items_recs') = 610::bigint * 9724 - (SELECT count(*) FROM ratings)
       AS every_unseen_item;
RESET rec.max_memory;
DROP TABLE all_items_recs;
