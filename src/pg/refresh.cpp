// rec.refresh_users and rec.refresh_items: keep a deployed model fresh between full retrains. Each
// given user's factors are solved again from their current rows in the training source with the item
// factors fixed (implicit's partial_fit_users), and likewise items with the user factors fixed; ids the
// model has never seen are added. An item with no rows gets its factors from its features when the
// version was trained with item_features.
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/ids.hpp"
#include "pg/item_features.hpp"
#include "pg/model_lifecycle.hpp"
#include "pg/model_store.hpp"
#include "pg/serving.hpp"
#include "pg/settings.hpp"
#include "pg/source_reader.hpp"

#include <algorithm>
#include <vector>

#include "core/interactions.hpp"

namespace {

using rec::core::ModelKind;
using rec::pg::ServedModel;

// The new rows, in plain arrays the PostgreSQL-side writer takes (see rec::pg::RowUpdate).
struct Refreshed
{
    std::vector<int64_t> ids;
    std::vector<float> bias, factors;
    std::vector<int64_t> seen_offsets{0}, seen_ids;  // users: their items (external ids)
    std::vector<float> seen_values;
    std::vector<int32_t> n_ratings;  // items: their number of rows
    int64_t seen_delta = 0;
    int32_t added = 0;
};

// Solves every requested id that has rows. Pure C++; the caller copies the result out before it is
// gone. Duplicate (id, other) rows are merged as training merged them (averaged for als, summed else).
void
solve(const ServedModel *m, bool items, const rec::pg::SourceRows &rows, const int64 *wanted, size_t wanted_count,
      Refreshed &out)
{
    const bool explicit_model = m->model.kind == ModelKind::ExplicitAls;
    // Solved against the fixed side: the item factors for users, the user factors (the model seen
    // from the other side) for items.
    rec::core::FactorModelView fixed = items ? m->model.transposed() : m->model;
    std::vector<float> user_gram;  // implicit items: YᵀY of the user factors, once for every item
    if (items && m->model.kind == ModelKind::ImplicitAls)
    {
        user_gram = rec::core::gram_of(fixed.item_factors, fixed.items, fixed.k);
        fixed.item_gram = user_gram.data();
    }
    // The rows indexed and their duplicates merged exactly as training does (averaged ratings, summed
    // counts); each requested id's row of that index is mapped onto the model's fixed side.
    if (rows.count == 0)
        return;
    rec::core::NoHostHooks no_hooks;
    const rec::core::Interactions data = rec::core::build_interactions(
        {rows.users, rows.items, rows.ratings, rows.count},
        explicit_model ? rec::core::DuplicatePolicy::Average : rec::core::DuplicatePolicy::Sum, 1, no_hooks);
    const rec::core::SparseRows &side = items ? data.by_item : data.by_user;
    const std::vector<int64_t> &side_ids = items ? data.item_ids : data.user_ids;
    const std::vector<int64_t> &other_ids = items ? data.user_ids : data.item_ids;
    std::vector<int64_t> order;  // the ids in the order asked, each once
    for (size_t w = 0; w < wanted_count; ++w)
        if (std::find(order.begin(), order.end(), wanted[w]) == order.end())
            order.push_back(wanted[w]);
    for (const int64_t id : order)
    {
        const int64_t row = rec::core::find_id(side_ids, id);
        if (row < 0)
            continue;  // no rows: left as it is
        std::vector<int32_t> indexes;
        std::vector<float> values;
        for (size_t e = side.offsets[size_t(row)]; e < side.offsets[size_t(row) + 1]; ++e)
        {
            const int64_t other_id = other_ids[size_t(side.columns[e])];
            const int64_t other = items ? rec::pg::user_index(m, other_id) : rec::pg::item_index(m, other_id);
            if (other < 0)
                continue;  // a counterpart the model has no factors for tells nothing
            indexes.push_back(int32_t(other));
            values.push_back(side.values[e]);
        }
        if (indexes.empty())
            continue;
        // An item-item model scores a user by their items: refreshing a user only replaces them.
        const rec::core::FoldedUser solved = rec::core::is_item_item(m->model.kind)
                                                 ? rec::core::FoldedUser{}
                                                 : fixed.fold_in(indexes.data(), values.data(), indexes.size());
        out.ids.push_back(id);
        out.bias.push_back(explicit_model ? solved.bias : 0.0f);
        out.factors.insert(out.factors.end(), solved.factors.begin(), solved.factors.end());
        const int64_t existing = items ? rec::pg::item_index(m, id) : rec::pg::user_index(m, id);
        if (existing < 0)
            ++out.added;
        if (items)
            out.n_ratings.push_back(int32_t(indexes.size()));
        else
        {
            for (size_t e = 0; e < indexes.size(); ++e)
            {
                out.seen_ids.push_back(m->item_ids[indexes[e]]);
                out.seen_values.push_back(values[e]);
            }
            out.seen_offsets.push_back(int64_t(out.seen_ids.size()));
            out.seen_delta += int64_t(indexes.size()) -
                              (existing < 0 ? 0 : m->seen_offsets[existing + 1] - m->seen_offsets[existing]);
        }
    }
}

// Items asked for that have no rows in the source: their factors from their features, when the
// version was trained with item_features (a title added after training, no interaction yet), appended
// to `update` with no ratings.
void
add_from_features(const ServedModel *m, const int64 *wanted, size_t wanted_count, rec::pg::RowUpdate &update)
{
    int64 *missing = (int64 *) palloc(sizeof(int64) * (wanted_count + 1));
    size_t missing_count = 0;
    for (size_t w = 0; w < wanted_count; ++w)
    {
        bool solved = false;
        for (size_t r = 0; r < update.count && !solved; ++r)
            solved = update.ids[r] == wanted[w];
        for (size_t r = 0; r < missing_count && !solved; ++r)
            solved = missing[r] == wanted[w];  // asked twice
        if (!solved)
            missing[missing_count++] = wanted[w];
    }
    if (missing_count == 0)
        return;
    const size_t k = size_t(m->model.k), total = update.count + missing_count;
    int64 *ids = (int64 *) palloc(sizeof(int64) * total);
    float *bias = (float *) palloc(sizeof(float) * total);
    float *factors = (float *) palloc(sizeof(float) * total * k);
    int32 *n_ratings = (int32 *) palloc0(sizeof(int32) * total);
    memcpy(ids, update.ids, sizeof(int64) * update.count);
    memcpy(bias, update.bias, sizeof(float) * update.count);
    memcpy(factors, update.factors, sizeof(float) * update.count * k);
    memcpy(n_ratings, update.n_ratings, sizeof(int32) * update.count);
    const size_t found = rec::pg::factors_from_features(m->model_id, missing, missing_count, ids + update.count,
                                                        factors + update.count * k, bias + update.count);
    for (size_t r = update.count; r < update.count + found; ++r)
        if (rec::pg::item_index(m, ids[r]) < 0)
            ++update.added;
    update.ids = ids;
    update.bias = bias;
    update.factors = factors;
    update.n_ratings = n_ratings;
    update.count += found;
}

Datum
refresh(FunctionCallInfo fcinfo, bool items)
{
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("model must not be NULL")));
    if (PG_ARGISNULL(1))
        PG_RETURN_INT32(0);
    if (RecoveryInProgress())
        ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION), errmsg("cannot refresh a model on a standby")));
    const char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    rec::pg::require_model_owner(name, "refresh");
    const ServedModel *m = rec::pg::serving_model(name);
    if (m->model.kind == ModelKind::Bpr)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("refreshing does not support bpr models"),
                        errhint("BPR has no closed-form solve for one user or item; retrain the model.")));
    if (items && rec::core::is_item_item(m->model.kind))
        ereport(ERROR,
                (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("refresh_items does not support item-item models"),
                 errhint("An ease or itemknn model's weights for an item depend on every user's items; "
                         "retrain the model. rec.refresh_users updates users' items.")));
    // The ids as the model knows them and, for text and uuid ids, their texts.
    const rec::pg::ArrayValues given = rec::pg::array_arg(fcinfo, 1, items ? "item_ids" : "user_ids");
    const bool keyed = items ? m->item_keyed : m->user_keyed;
    int64 *wanted = (int64 *) palloc(sizeof(int64) * (size_t(given.count) + 1));
    const char **wanted_keys = (const char **) palloc(sizeof(char *) * (size_t(given.count) + 1));
    size_t wanted_count = 0;
    for (int e = 0; e < given.count; ++e)
    {
        const int64 id =
            rec::pg::model_id_of(m, items, given.values[e], given.element_type, &wanted_keys[wanted_count]);
        const int64 index = items ? rec::pg::item_index(m, id) : rec::pg::user_index(m, id);
        if (keyed && index >= 0)
        {
            int32 length;
            const char *stored = rec::pg::stored_key(m, items, index, &length);
            if (size_t(length) != strlen(wanted_keys[wanted_count]) ||
                memcmp(stored, wanted_keys[wanted_count], size_t(length)) != 0)
                ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                                errmsg("ids \"%.*s\" and \"%s\" have the same 64-bit hash", length, stored,
                                       wanted_keys[wanted_count]),
                                errhint("pg_recommend identifies text and uuid ids by a hash; map one of them to "
                                        "another id in a view, and retrain.")));
        }
        wanted[wanted_count++] = id;
    }
    if (wanted_count == 0)
        PG_RETURN_INT32(0);

    // The rows of these ids, read from the training source as the caller (privileges and row-level
    // security apply), with the training columns.
    const rec::pg::TrainingSource source = rec::pg::training_source(m->model_id);
    rec::pg::SourceSpec spec;
    spec.relation = source.relation;
    spec.user_column = source.user_column;
    spec.item_column = source.item_column;
    spec.rating_column = source.rating_column;
    spec.rating_optional = m->model.kind != ModelKind::ExplicitAls;
    spec.function = items ? "rec.refresh_items" : "rec.refresh_users";
    if (keyed)
        spec.only_keys = wanted_keys;
    else
        spec.only_ids = wanted;
    spec.only_count = wanted_count;
    spec.only_items = items;
    spec.expect_user_type = m->user_type;
    spec.expect_item_type = m->item_type;
    spec.model_name = name;
    const rec::pg::SourceRows rows = rec::pg::read_source(spec, rec::pg::memory_budget_bytes());
    if (m->model.kind != ModelKind::ExplicitAls)
        rec::pg::refuse_negative_values(rows, source.relation);

    // Solved in C++, copied into palloc'd arrays before the writer (which may raise errors) runs.
    rec::pg::RowUpdate update{};
    rec::pg::cpp_call([&] {
        Refreshed solved;
        solve(m, items, rows, wanted, wanted_count, solved);
        auto copy = [](const auto &vector) {
            using T = typename std::decay_t<decltype(vector)>::value_type;
            T *out = nullptr;
            rec::pg::pg_call([&] { out = (T *) palloc(sizeof(T) * (vector.size() + 1)); });
            std::copy(vector.begin(), vector.end(), out);
            return out;
        };
        update.items = items;
        update.count = solved.ids.size();
        update.k = m->model.k;
        update.ids = copy(solved.ids);
        update.bias = copy(solved.bias);
        update.factors = copy(solved.factors);
        update.seen_offsets = copy(solved.seen_offsets);
        update.seen_ids = copy(solved.seen_ids);
        update.seen_values = copy(solved.seen_values);
        update.n_ratings = copy(solved.n_ratings);
        update.seen_delta = solved.seen_delta;
        update.added = solved.added;
    });
    if (items && !keyed)
        add_from_features(m, wanted, wanted_count, update);
    if (keyed && update.count > 0)
    {
        // Each row's id text, and the added ones' lengths for the model's recorded key size.
        const char **keys = (const char **) palloc(sizeof(char *) * update.count);
        const rec::pg::KeyDictionary &dictionary = items ? rows.item_keys : rows.user_keys;
        for (size_t r = 0; r < update.count; ++r)
        {
            int32 length;
            keys[r] = rec::pg::key_text(dictionary, update.ids[r], &length);
            if (keys[r] == nullptr)
                elog(ERROR, "refreshed id %lld has no text", (long long) update.ids[r]);
            if ((items ? rec::pg::item_index(m, update.ids[r]) : rec::pg::user_index(m, update.ids[r])) < 0)
                update.key_bytes_delta += length;
        }
        update.keys = keys;
    }
    if (update.count > 0)
        rec::pg::update_rows(m->model_id, update);
    PG_RETURN_INT32(int32(update.count));
}

}  // namespace

// rec.refresh_users(model, user_ids) RETURNS integer: users refreshed (or added)
PGREC_FUNCTION(rec_refresh_users)
{
    return refresh(fcinfo, false);
}

// rec.refresh_items(model, item_ids) RETURNS integer: items refreshed (or added)
PGREC_FUNCTION(rec_refresh_items)
{
    return refresh(fcinfo, true);
}
