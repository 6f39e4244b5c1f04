#include <gtest/gtest.h>
#include <algorithm>
#include <cmath>

#include "core/parallel.hpp"
#include "core/random.hpp"
#include "core/simd_kernels.hpp"
#include "core/topn.hpp"

using namespace rec::core;

TEST(TopN, ReturnsBestFirstWithBiasAndOffset)
{
    // Four items, k = 2; user (1, 0): scores = offset + bias + first factor.
    const float factors[] = {1, 0, 3, 0, 2, 0, 0, 9};
    const float bias[] = {0, 0, 0.5f, 0};
    const float user[] = {1, 0};
    ItemFactorsView items{factors, bias, 4, 2};
    auto best = top_n(items, user, 10.0f, nullptr, 0, 2);
    ASSERT_EQ(best.size(), 2u);
    EXPECT_EQ(best[0].item, 1);
    EXPECT_FLOAT_EQ(best[0].score, 13.0f);
    EXPECT_EQ(best[1].item, 2);
    EXPECT_FLOAT_EQ(best[1].score, 12.5f);
}

TEST(TopN, ExclusionsNeverShortenTheList)
{
    std::vector<float> factors(100);
    for (int i = 0; i < 100; ++i)
        factors[i] = float(i);
    ItemFactorsView items{factors.data(), nullptr, 100, 1};
    const float user[] = {1};
    std::vector<int32_t> excluded;
    for (int i = 50; i < 100; ++i)
        excluded.push_back(i);  // the 50 best items
    excluded.push_back(50);     // duplicates are harmless
    auto best = top_n(items, user, 0, excluded.data(), excluded.size(), 10);
    ASSERT_EQ(best.size(), 10u);
    EXPECT_EQ(best.front().item, 49);
    EXPECT_EQ(best.back().item, 40);
    // Fewer eligible items than asked for: all of them, no more.
    EXPECT_EQ(top_n(items, user, 0, excluded.data(), excluded.size(), 1000).size(), 50u);
}

TEST(TopN, TiesAreBrokenByItemIndex)
{
    const float factors[] = {1, 1, 1};
    const float user[] = {2};
    ItemFactorsView items{factors, nullptr, 3, 1};
    auto best = top_n(items, user, 0, nullptr, 0, 3);
    EXPECT_EQ(best[0].item, 0);
    EXPECT_EQ(best[2].item, 2);
}

// A catalogue large enough to be split over threads gives exactly the single-threaded answer, which is
// the one a plain full sort gives, exclusions applied before selection (including across blocks).
TEST(TopN, ParallelBlocksMatchAFullSort)
{
    const size_t count = 70001;
    const int k = 64;
    std::vector<float> factors(count * k), bias(count), user(k);
    for (size_t i = 0; i < factors.size(); ++i)
        factors[i] = std::sin(0.37f * float(i % 100003));
    for (size_t i = 0; i < count; ++i)
        bias[i] = 0.01f * float(i % 13);
    for (int f = 0; f < k; ++f)
        user[size_t(f)] = std::cos(float(f));
    const ItemFactorsView items{factors.data(), bias.data(), count, k};
    std::vector<Scored> all;
    for (size_t i = 0; i < count; ++i)
    {
        double score = 0.5 + bias[i];
        for (int f = 0; f < k; ++f)
            score += double(factors[i * k + size_t(f)]) * user[size_t(f)];
        all.push_back(Scored{int32_t(i), float(score)});
    }
    std::sort(all.begin(), all.end(), [](const Scored &a, const Scored &b) { return a.score > b.score; });
    // Exclude the 5 best and items at block edges.
    std::vector<int32_t> excluded{all[0].item, all[1].item, all[2].item, all[3].item, all[4].item, 1023, 1024, 70000};
    const auto single = top_n(items, user.data(), 0.5f, excluded.data(), excluded.size(), 20, 1);
    const auto parallel = top_n(items, user.data(), 0.5f, excluded.data(), excluded.size(), 20, 2);
    ASSERT_EQ(single.size(), 20u);
    ASSERT_EQ(parallel.size(), 20u);
    size_t expected = 5;
    for (size_t r = 0; r < 20; ++r)
    {
        EXPECT_EQ(single[r].item, parallel[r].item);
        EXPECT_EQ(single[r].score, parallel[r].score);
        while (all[expected].item == 1023 || all[expected].item == 1024 || all[expected].item == 70000)
            ++expected;
        EXPECT_EQ(single[r].item, all[expected].item) << "rank " << r;
        EXPECT_NEAR(single[r].score, all[expected].score, 1e-3);
        ++expected;
    }
}

TEST(Parallel, ChunksCoverEveryRowOnce)
{
    std::vector<double> costs{5, 1, 1, 1, 10, 1};
    auto bounds = chunk_boundaries(costs, 3);
    EXPECT_EQ(bounds.front(), 0u);
    EXPECT_EQ(bounds.back(), costs.size());
    for (size_t c = 1; c < bounds.size(); ++c)
        EXPECT_LT(bounds[c - 1], bounds[c]);
    std::vector<int> seen(costs.size(), 0);
    NoHostHooks hooks;
    parallel_rows(bounds, 2, hooks, [&](size_t row, int) { seen[row] += 1; });
    EXPECT_EQ(seen, std::vector<int>(costs.size(), 1));
}

TEST(Parallel, AnExceptionInAWorkerReachesTheCaller)
{
    NoHostHooks hooks;
    auto bounds = even_boundaries(100, 10);
    EXPECT_THROW(parallel_rows(bounds, 2, hooks,
                               [](size_t row, int) {
                                   if (row == 57)
                                       throw std::runtime_error("row 57");
                               }),
                 std::runtime_error);
}

#include "core/simd_kernels.hpp"

TEST(RowKernels, AllVariantsAgreeWithAPlainComputation)
{
    // Odd sizes exercise every tail path: 7 rows (4 + 3), 45 factors (32 + 8 + 5; 16 + 16 + 13).
    const size_t n = 7;
    const int k = 45;
    std::vector<float> rows(n * k), v(k), w(n);
    for (size_t i = 0; i < rows.size(); ++i)
        rows[i] = float((i * 37) % 11) - 5.0f;
    for (int f = 0; f < k; ++f)
        v[size_t(f)] = 0.25f * float(f % 7) - 0.5f;
    for (size_t j = 0; j < n; ++j)
        w[j] = float(j) - 3.0f;
    std::vector<const RowKernels *> variants{&portable_kernels(), &best_kernels()};
    if (avx2_kernels())
        variants.push_back(avx2_kernels());
    if (avx512_kernels())
        variants.push_back(avx512_kernels());
    for (const RowKernels *kernels : variants)
    {
        std::vector<float> out(n), acc(k, 1.0f);
        kernels->rows_times_vector(rows.data(), n, k, v.data(), out.data());
        kernels->rows_transpose_times_vector(rows.data(), n, k, w.data(), acc.data());
        for (size_t j = 0; j < n; ++j)
        {
            double expected = 0;
            for (int f = 0; f < k; ++f)
                expected += double(rows[j * k + f]) * v[size_t(f)];
            EXPECT_NEAR(out[j], expected, 1e-4) << kernels->name << " row " << j;
        }
        for (int f = 0; f < k; ++f)
        {
            double expected = 1.0;
            for (size_t j = 0; j < n; ++j)
                expected += double(rows[j * k + f]) * w[j];
            EXPECT_NEAR(acc[size_t(f)], expected, 1e-4) << kernels->name << " factor " << f;
        }
        // users_times_columns: 11 users (8 + 3) against 37 columns (32 + 5; 16 + 16 + 5) out of a
        // block of 40, scores into rows of 50.
        const size_t users = 11, columns = 37, column_stride = 40, score_stride = 50;
        std::vector<float> user_rows(users * k), column_rows(size_t(k) * column_stride),
            scores(users * score_stride, -7.0f);
        for (size_t i = 0; i < user_rows.size(); ++i)
            user_rows[i] = float((i * 13) % 9) - 4.0f;
        for (size_t i = 0; i < column_rows.size(); ++i)
            column_rows[i] = 0.5f * float((i * 29) % 7) - 1.5f;
        kernels->users_times_columns(user_rows.data(), users, k, column_rows.data(), column_stride, columns,
                                     scores.data(), score_stride);
        for (size_t u = 0; u < users; ++u)
            for (size_t j = 0; j < score_stride; ++j)
            {
                double expected = -7.0;  // beyond the columns: untouched
                if (j < columns)
                {
                    expected = 0;
                    for (int f = 0; f < k; ++f)
                        expected += double(user_rows[u * k + size_t(f)]) * column_rows[size_t(f) * column_stride + j];
                }
                EXPECT_NEAR(scores[u * score_stride + j], expected, 1e-3)
                    << kernels->name << " user " << u << " item " << j;
            }
        // first_at_least: NaN never qualifies; every tail length; none found gives n.
        std::vector<float> values(37, 0.0f);
        values[3] = std::nanf("");
        values[20] = 2.0f;
        values[36] = 3.0f;
        EXPECT_EQ(kernels->first_at_least(values.data(), 37, 1.0f), 20u) << kernels->name;
        EXPECT_EQ(kernels->first_at_least(values.data() + 21, 16, 1.0f), 15u) << kernels->name;
        EXPECT_EQ(kernels->first_at_least(values.data(), 20, 1.0f), 20u) << kernels->name;
        EXPECT_EQ(kernels->first_at_least(values.data(), 5, -1.0f), 0u) << kernels->name;
        EXPECT_EQ(kernels->first_at_least(values.data() + 3, 1, -1.0f), 1u) << kernels->name;
        EXPECT_EQ(kernels->first_at_least(values.data(), 0, -1.0f), 0u) << kernels->name;
    }
}

TEST(TopN, CandidatesAndExclusionsApplyBeforeSelection)
{
    std::vector<float> factors(50);
    for (int i = 0; i < 50; ++i)
        factors[size_t(i)] = float(i);
    ItemFactorsView items{factors.data(), nullptr, 50, 1};
    const float user[] = {1};
    const int32_t candidates[] = {3, 49, 10, 20, 49, 7, -1, 99};  // a repeat and out-of-range entries
    const int32_t excluded[] = {49};
    auto best = top_n_among(items, user, 0, {candidates, 8}, {excluded, 1}, 3);
    ASSERT_EQ(best.size(), 3u);
    EXPECT_EQ(best[0].item, 20);
    EXPECT_EQ(best[1].item, 10);
    EXPECT_EQ(best[2].item, 7);
    EXPECT_EQ(top_n_among(items, user, 0, {candidates, 8}, {excluded, 1}, 10).size(), 4u);  // 3, 7, 10, 20
}

TEST(TopN, MostSimilarByCosine)
{
    // Rows: (1,0), (2,0.1), (0,1), (-1,0), (0,0).
    const float rows[] = {1, 0, 2, 0.1f, 0, 1, -1, 0, 0, 0};
    auto similar = most_similar(rows, 5, 2, 0, 4);
    ASSERT_EQ(similar.size(), 4u);
    EXPECT_EQ(similar[0].item, 1);
    EXPECT_NEAR(similar[0].score, 2 / std::sqrt(4.01), 1e-6);
    EXPECT_EQ(similar[1].item, 2);  // orthogonal: 0, tied with the zero row, lower index first
    EXPECT_EQ(similar[2].item, 4);
    EXPECT_EQ(similar[3].item, 3);
    EXPECT_FLOAT_EQ(similar[3].score, -1.0f);
}

TEST(TopN, MostSimilarFiltersBeforeSelection)
{
    // 40 rows on a circle: row r at angle r degrees, so similarity to row 0 falls with r.
    const size_t count = 40;
    std::vector<float> rows(count * 2);
    for (size_t r = 0; r < count; ++r)
    {
        rows[2 * r] = std::cos(float(r) * 3.14159265f / 180.0f);
        rows[2 * r + 1] = std::sin(float(r) * 3.14159265f / 180.0f);
    }
    // Excluding the five best still returns five rows: the next five.
    const int32_t best_five[] = {1, 2, 3, 4, 5};
    auto without = most_similar(rows.data(), count, 2, 0, 5, nullptr, IndexList{best_five, 5});
    ASSERT_EQ(without.size(), 5u);
    for (size_t i = 0; i < 5; ++i)
        EXPECT_EQ(without[i].item, int32_t(6 + i));
    // Candidates: only they are chosen from, the query and excluded ones left out, duplicates harmless.
    const int32_t candidates[] = {30, 0, 12, 30, 25, 7, 39};
    const int32_t excluded[] = {7};
    const IndexList among{candidates, 7};
    auto chosen = most_similar(rows.data(), count, 2, 0, 10, &among, IndexList{excluded, 1});
    ASSERT_EQ(chosen.size(), 4u);
    EXPECT_EQ(chosen[0].item, 12);
    EXPECT_EQ(chosen[1].item, 25);
    EXPECT_EQ(chosen[2].item, 30);
    EXPECT_EQ(chosen[3].item, 39);
    EXPECT_NEAR(chosen[0].score, std::cos(12 * 3.14159265f / 180.0f), 1e-5);
    // No filter: the same as the unfiltered call.
    auto plain = most_similar(rows.data(), count, 2, 0, 7);
    auto unfiltered = most_similar(rows.data(), count, 2, 0, 7, nullptr, IndexList{});
    ASSERT_EQ(plain.size(), unfiltered.size());
    for (size_t i = 0; i < plain.size(); ++i)
        EXPECT_EQ(plain[i].item, unfiltered[i].item);
}

TEST(TopN, BatchMatchesOneUserAtATime)
{
    const size_t items_count = 300, users_count = 150;
    const int k = 5;
    std::vector<float> items(items_count * k), bias(items_count), users(users_count * k), offsets(users_count);
    for (size_t i = 0; i < items.size(); ++i)
        items[i] = float((i * 7919) % 101) / 50.0f - 1.0f;
    for (size_t i = 0; i < bias.size(); ++i)
        bias[i] = float(i % 13) / 13.0f;
    for (size_t i = 0; i < users.size(); ++i)
        users[i] = float((i * 104729) % 97) / 48.0f - 1.0f;
    for (size_t u = 0; u < users_count; ++u)
        offsets[u] = float(u % 3);
    std::vector<int64_t> excluded_offsets{0};
    std::vector<int32_t> excluded;
    for (size_t u = 0; u < users_count; ++u)
    {
        for (size_t e = 0; e < u % 40; ++e)
            excluded.push_back(int32_t((u * 31 + e * 17) % items_count));
        excluded_offsets.push_back(int64_t(excluded.size()));
    }
    const ItemFactorsView view{items.data(), bias.data(), items_count, k};
    const size_t n = 10;
    std::vector<int32_t> out_items(users_count * n), counts(users_count);
    std::vector<float> out_scores(users_count * n);
    NoHostHooks hooks;
    top_n_batch(view, users.data(), offsets.data(), users_count, excluded_offsets.data(), excluded.data(), n, 2, hooks,
                out_items.data(), out_scores.data(), counts.data());
    for (size_t u = 0; u < users_count; ++u)
    {
        const auto single = top_n(view, users.data() + u * k, offsets[u], excluded.data() + excluded_offsets[u],
                                  size_t(excluded_offsets[u + 1] - excluded_offsets[u]), n);
        ASSERT_EQ(size_t(counts[u]), single.size());
        for (size_t r = 0; r < single.size(); ++r)
            EXPECT_NEAR(out_scores[u * n + r], single[r].score, 1e-4) << "user " << u << " rank " << r;
    }
}

// Both batch paths (bf16 products with exact rescoring where the CPU has AVX-512 BF16, and fp32) give
// exactly the single-user answer on scores as close together as real models': the same items in the
// same order, scores equal to rounding.
class BatchPaths : public ::testing::TestWithParam<int>
{};

TEST_P(BatchPaths, AreExactOnCloseScores)
{
    const size_t items_count = 3000, users_count = 130;
    const int k = GetParam();
    std::vector<float> items(items_count * k), bias(items_count), users(users_count * k), offsets(users_count, 3.5f);
    RowRandom random(7, 0, 0);
    for (float &x : items)
        x = float(random.uniform() - 0.5) * 0.6f;
    for (float &x : bias)
        x = float(random.uniform() - 0.5) * 0.2f;
    for (float &x : users)
        x = float(random.uniform() - 0.5) * 0.8f;
    std::vector<int64_t> excluded_offsets{0};
    std::vector<int32_t> excluded;
    for (size_t u = 0; u < users_count; ++u)
    {
        for (size_t e = 0; e < 50; ++e)
            excluded.push_back(int32_t((u * 131 + e * 59) % items_count));
        excluded_offsets.push_back(int64_t(excluded.size()));
    }
    const ItemFactorsView view{items.data(), bias.data(), items_count, k};
    const size_t n = 20;
    NoHostHooks hooks;
    for (bool allow_bf16 : {true, false})
    {
        std::vector<int32_t> out_items(users_count * n), counts(users_count);
        std::vector<float> out_scores(users_count * n);
        top_n_batch(view, users.data(), offsets.data(), users_count, excluded_offsets.data(), excluded.data(), n, 2,
                    hooks, out_items.data(), out_scores.data(), counts.data(), allow_bf16);
        for (size_t u = 0; u < users_count; ++u)
        {
            const auto single = top_n(view, users.data() + u * k, offsets[u], excluded.data() + excluded_offsets[u],
                                      size_t(excluded_offsets[u + 1] - excluded_offsets[u]), n);
            ASSERT_EQ(size_t(counts[u]), n);
            // The same list as the single-user path, except that two items whose scores differ by
            // less than float rounding (the two paths add the same terms in different orders) may
            // trade places; every score is the item's own.
            for (size_t r = 0; r < n; ++r)
            {
                EXPECT_NEAR(out_scores[u * n + r], single[r].score, 1e-5) << "user " << u << " rank " << r;
                if (out_items[u * n + r] == single[r].item)
                    continue;
                const auto same = std::find_if(single.begin(), single.end(),
                                               [&](const Scored &x) { return x.item == out_items[u * n + r]; });
                const bool near_tie =
                    std::fabs(single[r].score - out_scores[u * n + r]) < 1e-5 &&
                    (same != single.end() ? std::fabs(same->score - out_scores[u * n + r]) < 1e-5 : r + 1 == n);
                EXPECT_TRUE(near_tie) << "bf16 " << allow_bf16 << " user " << u << " rank " << r << ": item "
                                      << out_items[u * n + r] << " instead of " << single[r].item;
            }
        }
    }
}

// Odd and even factor counts: the bf16 pairs end with the bias, the bound factor and padding in
// different places (k = 1: no full pair of factors at all).
INSTANTIATE_TEST_SUITE_P(FactorCounts, BatchPaths, ::testing::Values(1, 2, 7, 32));

TEST(Bf16, PairsRoundToNearestEven)
{
    // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to the even one, 1.
    EXPECT_EQ(bf16_pair(1.0f + 1.0f / 256, 0.0f), 0x3F80u);
    EXPECT_EQ(bf16_pair(1.0f + 3.0f / 256, 0.0f), 0x3F82u);  // 1 + 3·2^-8 rounds up to 1 + 2^-6
    EXPECT_EQ(bf16_pair(0.0f, -2.0f), 0xC0000000u);
}

// With bf16 rows (where the CPU has AVX-512 BF16) top_n bounds each score from above at half the
// memory traffic and rescores in fp32 only the items that can enter the list: the same items as the
// fp32 path, their scores within rounding, on close scores, with biases, exclusions and every n.
TEST(TopN, Bf16BoundsGiveTheFp32Answer)
{
    if (!bf16_scoring_available())
        GTEST_SKIP() << "no AVX-512 BF16 on this CPU";
    for (int k : {1, 7, 32, 64, 65})
    {
        const size_t count = 5003;
        std::vector<float> factors(count * size_t(k)), bias(count), user(static_cast<size_t>(k));
        RowRandom rng(uint64_t(k), 0, 0);
        for (float &x : factors)
            x = float(rng.normal());
        for (float &b : bias)
            b = 0.001f * float(rng.normal());
        for (float &u : user)
            u = float(rng.normal());
        // Near-duplicates of one item, so that many scores are close.
        for (size_t i = 100; i < 200; ++i)
            for (int f = 0; f < k; ++f)
                factors[i * size_t(k) + size_t(f)] = factors[size_t(f)] * (1.0f + 1e-5f * float(i));
        std::vector<uint32_t> rows(count * size_t(bf16_pairs(k)));
        std::vector<float> norms(count);
        fill_bf16_rows(factors.data(), count, k, rows.data(), norms.data());
        const ItemFactorsView plain{factors.data(), bias.data(), count, k};
        const ItemFactorsView with_bf16{factors.data(), bias.data(), count, k, rows.data(), norms.data()};
        const std::vector<int32_t> excluded{0, 5, 150, 4000, 5002};
        for (size_t n : {size_t(1), size_t(10), size_t(100), count})
        {
            const auto a = top_n(plain, user.data(), 3.5f, excluded.data(), excluded.size(), n);
            const auto b = top_n(with_bf16, user.data(), 3.5f, excluded.data(), excluded.size(), n);
            ASSERT_EQ(a.size(), b.size()) << "k " << k << " n " << n;
            for (size_t r = 0; r < a.size(); ++r)
            {
                EXPECT_NEAR(a[r].score, b[r].score, 1e-5f * (1 + std::fabs(a[r].score))) << "k " << k << " rank " << r;
                EXPECT_TRUE(std::find(excluded.begin(), excluded.end(), b[r].item) == excluded.end());
            }
        }
    }
}
