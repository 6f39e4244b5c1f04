#include "core/distributed_step.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "core/checked_size.hpp"
#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

constexpr uint32_t kMagic = 0x52454344;  // "RECD"
constexpr uint32_t kFormat = 2;

struct Header
{
    uint32_t magic, format;
    int32_t kind, factors, cg_steps, solver, confidence, policy, has_bias_regularization, unused;
    double regularization, bias_regularization, unweighted_regularization, alpha, global_mean;
    uint64_t token, other_rows, own_rows;
};

// Bytes of one side's arrays: ids, biases, factors.
size_t
side_bytes(size_t rows, int k)
{
    return sat_mul(rows, sat_add(sizeof(int64_t) + sizeof(float), sat_mul(size_t(k), sizeof(float))));
}

// Reads `count` values of T from `*at` (the buffer need not be aligned), advancing it.
template <typename T, typename Vec>
void
take(const char *&at, size_t count, Vec &out)
{
    out.resize(count);
    if (count > 0)
        std::memcpy(out.data(), at, count * sizeof(T));
    at += count * sizeof(T);
}

}  // namespace

namespace {

// Checks the inputs and fills the header; returns the Gram matrix's bytes.
size_t
header_of(const HalfStepInputs &in, Header &h)
{
    const bool implicit = in.kind == ModelKind::ImplicitAls;
    if (!implicit && in.kind != ModelKind::ExplicitAls)
        throw std::invalid_argument("only als and ials train distributed");
    if (!implicit && in.als.noise_variance > 0)
        throw std::invalid_argument("variational Bayes does not train distributed");
    if (implicit && in.gram == nullptr)
        throw std::invalid_argument("implicit ALS needs the Gram matrix");
    const int k = implicit ? in.ials.factors : in.als.factors;
    h = Header{};
    h.magic = kMagic;
    h.format = kFormat;
    h.kind = int32_t(in.kind);
    h.factors = k;
    h.cg_steps = implicit ? in.ials.cg_steps : in.als.cg_steps;
    h.solver = int32_t(implicit ? in.ials.solver : in.als.solver);
    h.confidence = int32_t(in.ials.confidence);
    h.policy = int32_t(in.policy);
    h.has_bias_regularization = in.als.bias_regularization.has_value();
    h.regularization = implicit ? in.ials.regularization : in.als.regularization;
    h.bias_regularization = in.als.bias_regularization.value_or(0.0);
    h.unweighted_regularization = in.als.unweighted_regularization;
    h.alpha = in.ials.alpha;
    h.global_mean = in.global_mean;
    h.token = in.token;
    h.other_rows = in.other_rows;
    h.own_rows = in.own_rows;
    return implicit ? size_t(k) * size_t(k) * sizeof(float) : 0;
}

// Copies `bytes` bytes to *at, advancing it.
void
put(char *&at, const void *data, size_t bytes)
{
    if (bytes > 0)
        std::memcpy(at, data, bytes);
    at += bytes;
}

}  // namespace

size_t
packed_size(const HalfStepInputs &in)
{
    Header h;
    const size_t gram_bytes = header_of(in, h);
    return sat_add(sat_add(sizeof(h), gram_bytes),
                   sat_add(side_bytes(in.other_rows, h.factors), side_bytes(in.own_rows, h.factors)));
}

void
pack_half_step(const HalfStepInputs &in, char *out)
{
    Header h;
    const size_t gram_bytes = header_of(in, h);
    const size_t k = size_t(h.factors);
    put(out, &h, sizeof(h));
    put(out, in.gram, gram_bytes);
    for (int side = 0; side < 2; ++side)
    {
        const size_t rows = side == 0 ? in.other_rows : in.own_rows;
        put(out, side == 0 ? in.other_ids : in.own_ids, rows * sizeof(int64_t));
        put(out, side == 0 ? in.other_bias : in.own_bias, rows * sizeof(float));
        put(out, side == 0 ? in.other_factors : in.own_factors, rows * k * sizeof(float));
    }
}

std::vector<char>
pack_half_step(const HalfStepInputs &in)
{
    std::vector<char> out(packed_size(in));
    pack_half_step(in, out.data());
    return out;
}

size_t
solved_row_bytes(int k)
{
    return sizeof(float) * size_t(1 + k) + sizeof(double) + sizeof(int64_t);
}

void
encode_solved_row(const SolvedRow &row, char *out)
{
    const int64_t entries = int64_t(row.entries);
    put(out, &row.bias, sizeof(float));
    put(out, row.factors.data(), row.factors.size() * sizeof(float));
    put(out, &row.loss, sizeof(double));
    put(out, &entries, sizeof(entries));
}

bool
decode_solved_row(const char *buffer, size_t length, int k, float *bias, float *factors, double *loss, int64_t *entries)
{
    if (length != solved_row_bytes(k))
        return false;
    std::memcpy(bias, buffer, sizeof(float));
    std::memcpy(factors, buffer + sizeof(float), sizeof(float) * size_t(k));
    std::memcpy(loss, buffer + sizeof(float) * size_t(1 + k), sizeof(double));
    std::memcpy(entries, buffer + sizeof(float) * size_t(1 + k) + sizeof(double), sizeof(int64_t));
    return true;
}

size_t
merge_repeats(int64_t *ids, float *values, size_t count, DuplicatePolicy policy)
{
    std::vector<std::pair<int64_t, float>> entries(count);
    for (size_t e = 0; e < count; ++e)
        entries[e] = {ids[e], values[e]};
    std::stable_sort(entries.begin(), entries.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    size_t out = 0;
    for (size_t e = 0; e < count;)
    {
        size_t same = e + 1;
        double sum = entries[e].second;
        while (same < count && entries[same].first == entries[e].first)
            sum += entries[same++].second;
        ids[out] = entries[e].first;
        values[out++] = float(policy == DuplicatePolicy::Average ? sum / double(same - e) : sum);
        e = same;
    }
    return out;
}

size_t
packed_header_bytes()
{
    return sizeof(Header);
}

uint64_t
packed_token(const void *buffer, size_t length)
{
    if (length < sizeof(Header))
        return 0;
    Header h;
    std::memcpy(&h, buffer, sizeof(h));
    return h.magic == kMagic ? h.token : 0;
}

struct RowSolver::State
{
    ModelKind kind;
    int k;
    DuplicatePolicy policy;
    double global_mean;
    AlsParams als;
    ImplicitParams ials;
    std::vector<int64_t> other_ids, own_ids;
    LargeVector<float> other_factors, other_bias, own_factors, own_bias, no_covariance;
    std::unique_ptr<ImplicitHalfStep> implicit_step;  // holds YᵀY + λI, computed once
    std::unique_ptr<ExplicitHalfStep> explicit_step;
};

RowSolver::RowSolver(const void *buffer, size_t length, HostHooks & /*hooks*/) : state_(std::make_unique<State>())
{
    if (length < sizeof(Header))
        throw std::invalid_argument("not a packed half-step: too short");
    Header h;
    std::memcpy(&h, buffer, sizeof(h));
    const bool implicit = h.kind == int32_t(ModelKind::ImplicitAls);
    if (h.magic != kMagic || h.format != kFormat || (!implicit && h.kind != int32_t(ModelKind::ExplicitAls)) ||
        h.factors < 1 || h.factors > 100000 || h.cg_steps < 1 ||
        sat_add(sat_add(sizeof(h), implicit ? size_t(h.factors) * size_t(h.factors) * sizeof(float) : 0),
                sat_add(side_bytes(h.other_rows, h.factors), side_bytes(h.own_rows, h.factors))) != length)
        throw std::invalid_argument("not a packed half-step of this pg_recommend version");
    State &s = *state_;
    s.kind = ModelKind(h.kind);
    s.k = h.factors;
    s.policy = DuplicatePolicy(h.policy);
    s.global_mean = h.global_mean;
    const Solver solver = h.solver == int32_t(Solver::Cholesky) ? Solver::Cholesky : Solver::ConjugateGradient;
    s.als.factors = s.ials.factors = h.factors;
    s.als.cg_steps = s.ials.cg_steps = h.cg_steps;
    s.als.solver = s.ials.solver = solver;
    s.als.regularization = s.ials.regularization = h.regularization;
    if (h.has_bias_regularization)
        s.als.bias_regularization = h.bias_regularization;
    s.als.unweighted_regularization = h.unweighted_regularization;
    s.ials.alpha = h.alpha;
    s.ials.confidence = Confidence(h.confidence);
    // One row at a time: the parallelism is Citus's, one backend per shard.
    s.als.threads = s.ials.threads = 1;
    const char *at = static_cast<const char *>(buffer) + sizeof(h);
    const size_t k = size_t(h.factors);
    std::vector<float> gram;
    if (implicit)
        take<float>(at, k * k, gram);
    take<int64_t>(at, h.other_rows, s.other_ids);
    take<float>(at, h.other_rows, s.other_bias);
    take<float>(at, h.other_rows * k, s.other_factors);
    take<int64_t>(at, h.own_rows, s.own_ids);
    take<float>(at, h.own_rows, s.own_bias);
    take<float>(at, h.own_rows * k, s.own_factors);
    if (!std::is_sorted(s.other_ids.begin(), s.other_ids.end()) || !std::is_sorted(s.own_ids.begin(), s.own_ids.end()))
        throw std::invalid_argument("not a packed half-step: ids out of order");
    if (implicit)
        s.implicit_step = std::make_unique<ImplicitHalfStep>(s.other_factors, s.ials, std::move(gram));
    else
        s.explicit_step = std::make_unique<ExplicitHalfStep>(s.als, s.global_mean);
    token_ = h.token;
}

RowSolver::~RowSolver() = default;

bool
RowSolver::solve(int64_t own_id, const int64_t *ids, const float *values, size_t count, SolvedRow &out,
                 HostHooks &hooks) const
{
    const State &s = *state_;
    const int64_t own = find_id(s.own_ids, own_id);
    if (own < 0)
        return false;
    std::vector<int64_t> merged_ids(ids, ids + count);
    std::vector<float> merged_values(values, values + count);
    const size_t merged = merge_repeats(merged_ids.data(), merged_values.data(), count, s.policy);
    // Ids ascend as the columns do: one forward walk over the other side's ids maps them (an id it
    // does not have, from rows added after the run listed the ids, is left out).
    SparseRows row;
    row.offsets.push_back(0);
    auto at = s.other_ids.begin();
    for (size_t e = 0; e < merged; ++e)
    {
        at = std::lower_bound(at, s.other_ids.end(), merged_ids[e]);
        if (at == s.other_ids.end())
            break;
        if (*at == merged_ids[e])
        {
            row.columns.push_back(int32_t(at - s.other_ids.begin()));
            row.values.push_back(merged_values[e]);
        }
    }
    if (row.columns.empty())
        return false;
    row.offsets.push_back(row.columns.size());
    const size_t k = size_t(s.k);
    LargeVector<float> factors(s.own_factors.begin() + own * int64_t(k),
                               s.own_factors.begin() + (own + 1) * int64_t(k));
    LargeVector<float> bias(1, s.own_bias[size_t(own)]);
    if (s.implicit_step)
    {
        std::vector<double> loss(1);
        s.implicit_step->solve(row, factors, &loss, hooks);
        out.loss = loss[0];
        bias[0] = 0;
    }
    else
    {
        LargeVector<float> no_covariance;
        s.explicit_step->solve(row, {&s.other_factors, &s.other_bias, &no_covariance},
                               {&factors, &bias, &no_covariance}, &out.loss, hooks);
    }
    out.bias = bias[0];
    out.factors.assign(factors.begin(), factors.end());
    out.entries = row.columns.size();
    return true;
}

}  // namespace rec::core
