// Trains implicit ALS or BPR with the numeric core alone on a "user item rating ..." file pair and
// prints the ranking metrics at k: the solver's quality and cost without PostgreSQL. Usage:
//   implicit_cli TRAIN TEST ials|ials-cholesky|bpr [factors iterations regularization alpha|learning_rate threshold k]
// Rows with rating >= threshold become positives with value 1 (threshold 0: keep the rating as value).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/bpr.hpp"
#include "core/evaluate.hpp"
#include "core/ials.hpp"
#include "rating_file.hpp"

namespace {
struct Quiet : rec::core::TrainHooks
{
    double last = 0;
    void poll() override {}
    void iteration_done(const rec::core::IterationStats &s) override
    {
        if (std::getenv("PROGRESS"))
            std::fprintf(stderr, "iteration %d: %s %.5f, %.3f s\n", s.iteration, s.metric, s.value, s.seconds - last);
        last = s.seconds;
    }
};
}  // namespace

int
main(int argc, char **argv)
{
    if (argc < 4)
    {
        std::fprintf(stderr,
                     "usage: %s TRAIN TEST ials|ials-cholesky|bpr [factors iterations regularization "
                     "alpha|learning_rate threshold k]\n",
                     argv[0]);
        return 2;
    }
    const std::string algorithm = argv[3];
    const int factors = argc > 4 ? std::atoi(argv[4]) : 64;
    const int iterations = argc > 5 ? std::atoi(argv[5]) : 15;
    const double regularization = argc > 6 ? std::atof(argv[6]) : 0.01;
    const double knob = argc > 7 ? std::atof(argv[7]) : (algorithm == "bpr" ? 0.01 : 1.0);
    const double threshold = argc > 8 ? std::atof(argv[8]) : 4;
    const int k = argc > 9 ? std::atoi(argv[9]) : 10;
    RatingRows train = read_rating_file(argv[1], threshold), test = read_rating_file(argv[2], threshold);
    rec::core::NoHostHooks none;
    Quiet hooks;
    rec::core::TripletsView view{train.users.data(), train.items.data(), train.values.data(), train.users.size()};
    const auto t0 = std::chrono::steady_clock::now();
    auto data = rec::core::build_interactions(view, rec::core::DuplicatePolicy::Sum, 0, none);
    rec::core::FactorModel model;
    if (algorithm == "bpr")
    {
        rec::core::BprParams p;
        p.factors = factors;
        p.iterations = iterations;
        p.regularization = regularization;
        p.learning_rate = knob;
        model = rec::core::train_bpr(data, p, hooks);
    }
    else
    {
        rec::core::ImplicitParams p;
        p.factors = factors;
        p.iterations = iterations;
        p.regularization = regularization;
        p.alpha = knob;
        if (algorithm == "ials-cholesky")
            p.solver = rec::core::Solver::Cholesky;
        model = rec::core::train_implicit_als(data, p, hooks);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<int64_t> user_of(test.users.size(), -1);
    std::vector<int32_t> item_of(test.users.size(), -1);
    for (size_t r = 0; r < test.users.size(); ++r)
        if (test.values[r] > 0)
        {
            user_of[r] = rec::core::find_id(data.user_ids, test.users[r]);
            item_of[r] = int32_t(rec::core::find_id(data.item_ids, test.items[r]));
        }
    const rec::core::TestPositives positives =
        rec::core::group_positives(data.user_ids.size(), user_of.data(), item_of.data(), user_of.size());
    const rec::core::FactorModelView view_model = model.view();
    const std::vector<int64_t> seen_offsets(data.by_user.offsets.begin(), data.by_user.offsets.end());
    const auto m = rec::core::ranking_metrics(view_model, {seen_offsets.data(), data.by_user.columns.data()}, positives,
                                              k, 0, none);
    std::printf(
        "%s precision %.4f recall %.4f map %.4f ndcg %.4f auc %.4f coverage %.4f users %zu %s %.5f seconds %.2f\n",
        algorithm.c_str(), m.precision, m.recall, m.map, m.ndcg, m.auc, m.coverage, m.users, model.train_metric,
        model.train_value, seconds);
    return 0;
}
