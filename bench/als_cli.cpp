// Trains the core ALS on a "user item rating ..." file and reports test RMSE: the numeric core alone,
// without PostgreSQL, to tell the solver's cost from the database's. Usage:
//   als_cli TRAIN TEST [factors iterations regularization threads bias_regularization unweighted_regularization]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/als.hpp"
#include "rating_file.hpp"

int
main(int argc, char **argv)
{
    if (argc < 3)
    {
        std::fprintf(stderr,
                     "usage: %s TRAIN TEST [factors iterations regularization threads bias_regularization "
                     "unweighted_regularization]\n",
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
    if (argc > 7)
        p.bias_regularization = std::atof(argv[7]);
    if (argc > 8)
        p.unweighted_regularization = std::atof(argv[8]);
    RatingRows train = read_rating_file(argv[1]), test = read_rating_file(argv[2]);
    rec::core::NoHostHooks none;
    rec::core::TripletsView view{train.users.data(), train.items.data(), train.values.data(), train.users.size()};
    auto t0 = std::chrono::steady_clock::now();
    auto data = rec::core::build_interactions(view, rec::core::DuplicatePolicy::Average, p.threads, none);
    struct Quiet : rec::core::TrainHooks
    {
        void poll() override {}
    } hooks;
    auto model = rec::core::train_explicit_als(data, p, hooks);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double se = 0;
    for (size_t r = 0; r < test.users.size(); ++r)
    {
        int64_t u = rec::core::find_id(data.user_ids, test.users[r]);
        int64_t i = rec::core::find_id(data.item_ids, test.items[r]);
        double pred = model.global_mean;
        if (u >= 0)
            pred += model.user_bias[size_t(u)];
        if (i >= 0)
            pred += model.item_bias[size_t(i)];
        if (u >= 0 && i >= 0)
            for (int f = 0; f < p.factors; ++f)
                pred += double(model.user_factors[size_t(u) * p.factors + f]) *
                        model.item_factors[size_t(i) * p.factors + f];
        pred = std::min(5.0, std::max(1.0, pred));
        double e = pred - test.values[r];
        se += e * e;
    }
    std::printf("train_rmse %.4f test_rmse %.4f seconds %.3f\n", model.train_value,
                std::sqrt(se / double(test.users.size())), seconds);
    return 0;
}
