// The distributed trainer's arithmetic without a cluster: the coordinator's loop (pack the factors,
// let each row be solved by a RowSolver from its raw rows, repeats and all, in any order) must give
// the factors of single-node training bit for bit, for als and ials and both solvers.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/distributed_step.hpp"
#include "core/random.hpp"

using namespace rec::core;

namespace {

struct Rows
{
    std::vector<int64_t> users, items;
    std::vector<float> values;
};

// Ratings 1..5 (and some repeated pairs) of 60 users over 30 items, ids sparse and unordered.
Rows
raw_rows(uint64_t seed)
{
    Rows r;
    RowRandom rng(seed, 5, 0);
    for (int u = 0; u < 60; ++u)
        for (int i = 0; i < 30; ++i)
            if (rng.uniform() < 0.3)
            {
                const int copies = rng.uniform() < 0.1 ? 2 : 1;
                for (int c = 0; c < copies; ++c)
                {
                    r.users.push_back(1000 - 7 * u);
                    r.items.push_back(50 + 3 * i);
                    r.values.push_back(float(1 + int(rng.uniform() * 5)));
                }
            }
    return r;
}

// One side's rows as a worker sees them: for each own id, its (other id, value) pairs, in an order
// that is not the single-node one (reversed).
void
solve_side(const Rows &r, bool by_user, const HalfStepInputs &in, FactorModel &m, double &loss)
{
    NoHostHooks none;
    const std::vector<char> packed = pack_half_step(in);
    const RowSolver solver(packed.data(), packed.size(), none);
    ASSERT_EQ(solver.token(), in.token);
    ASSERT_EQ(packed_token(packed.data(), packed.size()), in.token);
    const int k = m.factors;
    LargeVector<float> &factors = by_user ? m.user_factors : m.item_factors;
    LargeVector<float> &bias = by_user ? m.user_bias : m.item_bias;
    loss = 0;
    for (size_t row = 0; row < in.own_rows; ++row)
    {
        std::vector<int64_t> ids;
        std::vector<float> values;
        for (size_t e = r.users.size(); e-- > 0;)
            if ((by_user ? r.users[e] : r.items[e]) == in.own_ids[row])
            {
                ids.push_back(by_user ? r.items[e] : r.users[e]);
                values.push_back(r.values[e]);
            }
        SolvedRow out;
        ASSERT_TRUE(solver.solve(in.own_ids[row], ids.data(), values.data(), ids.size(), out, none));
        std::copy(out.factors.begin(), out.factors.end(), factors.begin() + int64_t(row) * k);
        bias[row] = out.bias;
        loss += out.loss;
    }
}

void
expect_distributed_equals_single_node(ModelKind kind, Solver solver)
{
    const Rows r = raw_rows(3);
    const bool implicit = kind == ModelKind::ImplicitAls;
    const auto policy = implicit ? DuplicatePolicy::Sum : DuplicatePolicy::Average;
    NoHostHooks none;
    const Interactions data =
        build_interactions({r.users.data(), r.items.data(), r.values.data(), r.users.size()}, policy, 2, none);
    ASSERT_GT(data.duplicates_merged, 0u);
    HalfStepInputs in;
    in.kind = kind;
    in.policy = policy;
    in.als.factors = in.ials.factors = 6;
    in.als.iterations = in.ials.iterations = 4;
    in.als.solver = in.ials.solver = solver;
    in.als.regularization = 0.1;
    in.ials.regularization = 0.1;
    in.ials.alpha = 2;
    in.global_mean = data.value_mean;
    struct : TrainHooks
    {
        void poll() override {}
    } hooks;
    const FactorModel single =
        implicit ? train_implicit_als(data, in.ials, hooks) : train_explicit_als(data, in.als, hooks);
    const size_t users = data.user_ids.size(), items = data.item_ids.size();
    FactorModel m = implicit ? initial_implicit_model(users, items, in.ials)
                             : initial_explicit_model(users, items, in.als, data.value_mean);
    for (int it = 0; it < 4; ++it)
    {
        for (bool by_user : {true, false})
        {
            in.token = uint64_t(it * 2 + by_user + 1);
            in.other_rows = by_user ? items : users;
            in.own_rows = by_user ? users : items;
            in.other_ids = (by_user ? data.item_ids : data.user_ids).data();
            in.own_ids = (by_user ? data.user_ids : data.item_ids).data();
            in.other_factors = (by_user ? m.item_factors : m.user_factors).data();
            in.other_bias = (by_user ? m.item_bias : m.user_bias).data();
            in.own_factors = (by_user ? m.user_factors : m.item_factors).data();
            in.own_bias = (by_user ? m.user_bias : m.item_bias).data();
            std::vector<float> gram;
            if (implicit)
            {
                gram = ImplicitHalfStep(by_user ? m.item_factors : m.user_factors, in.other_rows, in.ials, none).gram();
                in.gram = gram.data();
            }
            double loss;
            solve_side(r, by_user, in, m, loss);
            if (::testing::Test::HasFatalFailure())
                return;
        }
    }
    EXPECT_TRUE(std::equal(m.user_factors.begin(), m.user_factors.end(), single.user_factors.begin()));
    EXPECT_TRUE(std::equal(m.item_factors.begin(), m.item_factors.end(), single.item_factors.begin()));
    EXPECT_TRUE(std::equal(m.user_bias.begin(), m.user_bias.end(), single.user_bias.begin()));
    EXPECT_TRUE(std::equal(m.item_bias.begin(), m.item_bias.end(), single.item_bias.begin()));
}

}  // namespace

TEST(DistributedStep, ExplicitAlsRowByRowEqualsSingleNodeBitForBit)
{
    expect_distributed_equals_single_node(ModelKind::ExplicitAls, Solver::ConjugateGradient);
    expect_distributed_equals_single_node(ModelKind::ExplicitAls, Solver::Cholesky);
}

TEST(DistributedStep, ImplicitAlsRowByRowEqualsSingleNodeBitForBit)
{
    expect_distributed_equals_single_node(ModelKind::ImplicitAls, Solver::ConjugateGradient);
    expect_distributed_equals_single_node(ModelKind::ImplicitAls, Solver::Cholesky);
}

TEST(DistributedStep, UnknownRowsAndIdsAndBadBuffersAreRefused)
{
    const int64_t ids[] = {1, 2};
    const float factors[] = {0.1f, 0.2f, 0.3f, 0.4f}, bias[] = {0, 0};
    HalfStepInputs in;
    in.kind = ModelKind::ImplicitAls;
    in.ials.factors = 2;
    in.token = 77;
    in.other_rows = in.own_rows = 2;
    in.other_ids = in.own_ids = ids;
    in.other_factors = in.own_factors = factors;
    in.other_bias = in.own_bias = bias;
    EXPECT_THROW(pack_half_step(in), std::invalid_argument);  // implicit ALS without its Gram matrix
    const float gram[] = {1, 0, 0, 1};
    in.gram = gram;
    std::vector<char> packed = pack_half_step(in);
    NoHostHooks none;
    const RowSolver solver(packed.data(), packed.size(), none);
    SolvedRow out;
    const int64_t known[] = {2, 9}, unknown[] = {9};
    const float values[] = {1, 1};
    EXPECT_FALSE(solver.solve(5, known, values, 2, out, none));    // an own id the run did not list
    EXPECT_FALSE(solver.solve(1, unknown, values, 1, out, none));  // only other ids it did not list
    ASSERT_TRUE(solver.solve(1, known, values, 2, out, none));     // 9 is left out
    EXPECT_EQ(out.entries, 1u);
    EXPECT_EQ(out.factors.size(), 2u);
    EXPECT_THROW(RowSolver(packed.data(), packed.size() - 1, none), std::invalid_argument);
    EXPECT_THROW(RowSolver(packed.data(), 8, none), std::invalid_argument);
    EXPECT_EQ(packed_token(packed.data(), 8), 0u);
    packed[0] ^= 1;
    EXPECT_THROW(RowSolver(packed.data(), packed.size(), none), std::invalid_argument);
    in.kind = ModelKind::Bpr;
    EXPECT_THROW(pack_half_step(in), std::invalid_argument);
}
