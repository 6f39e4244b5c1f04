// Trains the core's explicit ALS on a "user item rating ..." file and reports the test RMSE after every
// iteration: the numeric core alone, without PostgreSQL, to tell the solver's cost and quality from the
// database's. Usage:
//   als_cli TRAIN TEST [factors iterations regularization threads bias_regularization
//                       unweighted_regularization solver(cg|cholesky) cg_steps noise_variance]
// A negative bias_regularization means "same as regularization" (rec.train's NULL).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/als.hpp"
#include "rating_file.hpp"

namespace {

// Test RMSE as rec.predict predicts: the baseline for unknown ids, clipped to the training range.
double
test_rmse(const rec::core::FactorModel &model, const rec::core::Interactions &data, const RatingRows &test, float low,
          float high)
{
    rec::core::FactorModelView view = model.view();
    view.clip = true;
    view.rating_min = low;
    view.rating_max = high;
    double se = 0;
    for (size_t r = 0; r < test.users.size(); ++r)
    {
        const double e = view.predict(rec::core::find_id(data.user_ids, test.users[r]),
                                      rec::core::find_id(data.item_ids, test.items[r])) -
                         test.values[r];
        se += e * e;
    }
    return std::sqrt(se / double(test.users.size()));
}

}  // namespace

int
main(int argc, char **argv)
{
    if (argc < 3)
    {
        std::fprintf(stderr,
                     "usage: %s TRAIN TEST [factors iterations regularization threads bias_regularization "
                     "unweighted_regularization solver cg_steps noise_variance]\n",
                     argv[0]);
        return 2;
    }
    rec::core::AlsParams p;
    if (argc > 3)
        p.factors = std::atoi(argv[3]);
    if (argc > 4)
        p.iterations = std::atoi(argv[4]);
    if (argc > 5)
        p.regularization = std::atof(argv[5]);
    if (argc > 6)
        p.threads = std::atoi(argv[6]);
    if (argc > 7 && std::atof(argv[7]) >= 0)
        p.bias_regularization = std::atof(argv[7]);
    if (argc > 8)
        p.unweighted_regularization = std::atof(argv[8]);
    if (argc > 9)
        p.solver =
            std::strcmp(argv[9], "cholesky") == 0 ? rec::core::Solver::Cholesky : rec::core::Solver::ConjugateGradient;
    if (argc > 10)
        p.cg_steps = std::atoi(argv[10]);
    if (argc > 11)
        p.noise_variance = std::atof(argv[11]);
    RatingRows train = read_rating_file(argv[1]), test = read_rating_file(argv[2]);
    float low = train.values[0], high = train.values[0];
    for (float v : train.values)
    {
        low = std::min(low, v);
        high = std::max(high, v);
    }
    rec::core::NoHostHooks none;
    rec::core::TripletsView view{train.users.data(), train.items.data(), train.values.data(), train.users.size()};
    const auto t0 = std::chrono::steady_clock::now();
    const auto data = rec::core::build_interactions(view, rec::core::DuplicatePolicy::Average, p.threads, none);
    const double index_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    struct PerIteration : rec::core::TrainHooks
    {
        const rec::core::Interactions *data;
        const RatingRows *test;
        float low, high;
        double excluded = 0;  // seconds spent on the test RMSE, left out of the timings
        void poll() override {}
        bool keep_going(const rec::core::FactorModel &model, rec::core::IterationStats &stats) override
        {
            const auto t = std::chrono::steady_clock::now();
            const double rmse = test_rmse(model, *data, *test, low, high);
            excluded += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
            std::printf("iteration %d train_rmse %.4f test_rmse %.4f\n", stats.iteration, stats.value, rmse);
            return true;
        }
    } hooks;
    hooks.data = &data;
    hooks.test = &test;
    hooks.low = low;
    hooks.high = high;
    const auto t1 = std::chrono::steady_clock::now();
    const auto model = rec::core::train_explicit_als(data, p, hooks);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count() - hooks.excluded;
    std::printf("train_rmse %.4f test_rmse %.4f indexing_seconds %.3f training_seconds %.3f per_iteration %.3f\n",
                model.train_value, test_rmse(model, data, test, low, high), index_seconds, seconds,
                seconds / model.iterations);
    return 0;
}
