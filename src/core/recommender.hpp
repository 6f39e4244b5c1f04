// A trained model as serving and evaluation use it, whatever its kind: the one place that knows how
// each kind scores a user, so that no serving function repeats a switch on the kind.
//
//   factor models (als, ials, bpr): score(u, i) = μ + b_u + b_i + p_uᵀq_i (core/factor_model.hpp); a
//     new user is folded in (a least-squares solve against the item factors).
//   item-item models (ease, itemknn): score(u, j) = Σ_i x_ui · W_ij over the user's items
//     (core/item_item.hpp); a new user is just their items.
//
// Both answer the same questions: a known user's best n (filtered first), a new user's best n from
// their items, one score, the per-item terms of a score (explain), the items most similar to an item.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/factor_model.hpp"
#include "core/item_item.hpp"
#include "core/topn.hpp"

namespace rec::core {

// Items of one user and their values (ratings, counts), dense item indexes.
struct UserItems
{
    const int32_t *items = nullptr;
    const float *values = nullptr;
    size_t count = 0;
};

// Each known user's training items and values: items[offsets[u] .. offsets[u+1]).
struct UserItemsView
{
    const int64_t *offsets = nullptr;  // users + 1
    const int32_t *items = nullptr;
    const float *values = nullptr;

    UserItems of(size_t user) const
    {
        const int64_t begin = offsets[user];
        return {items + begin, values ? values + begin : nullptr, size_t(offsets[user + 1] - begin)};
    }
};

inline bool
is_item_item(ModelKind kind)
{
    return kind == ModelKind::Ease || kind == ModelKind::ItemKnn;
}

struct Recommender
{
    FactorModelView factors;  // the kind, the counts; factor kinds: their arrays (k = 0 for item-item)
    ItemWeightsView weights;  // item-item kinds
    UserItemsView seen;       // each known user's items (what an item-item model scores a user by)

    ModelKind kind() const { return factors.kind; }
    bool item_item() const { return is_item_item(factors.kind); }
    size_t items() const { return factors.items; }
    size_t users() const { return factors.users; }

    // A known user's best n: `excluded` never returned, only `candidates` when given. threads and
    // hooks as top_n (a large catalogue split over threads, hooks->poll() between).
    std::vector<Scored> top_n_for_user(size_t user, IndexList excluded, const IndexList *candidates, size_t n,
                                       int threads = 1, HostHooks *hooks = nullptr) const;
    // Whether scoring one user (with this many items, for item-item models) is worth threads.
    bool scoring_runs_in_parallel(size_t user_items) const;
    // The same ranking by the part of the score that depends on the item (no user offset): what
    // evaluation ranks by.
    std::vector<Scored> rank_for_user(size_t user, IndexList excluded, size_t n) const;
    // Whether a user can be given by their items alone (top_n_for_items, explain): not for bpr, whose
    // user factors are no closed-form function of the items.
    bool scores_new_users() const { return item_item() || factors.can_fold_in(); }
    // A new user's best n from their items (folded in for factor models).
    std::vector<Scored> top_n_for_items(UserItems user, IndexList excluded, const IndexList *candidates, size_t n,
                                        int threads = 1, HostHooks *hooks = nullptr) const;
    // One score; user or item -1 for one the model does not know (factor models: the baseline
    // estimate; item-item models: 0 for an unknown user, whose items are none).
    double predict(int64_t user, int64_t item) const;
    // The user's score for `target` split into one term per item of `user`, in their order: for
    // item-item models x_i · W_i,target (they sum to the score); for factor models as
    // FactorModelView::explain.
    std::vector<float> explain(UserItems user, int32_t target) const;
    // The n items most similar to `item`, filtered first: cosine of the factors for factor models,
    // the largest weights W_item,j of its row for item-item models (the item itself left out).
    std::vector<Scored> similar_items(size_t item, size_t n, const IndexList *candidates, IndexList excluded) const;
    // Whether users have factors to compare (similar_users): not for item-item models.
    bool has_user_factors() const { return !item_item(); }
};

}  // namespace rec::core
