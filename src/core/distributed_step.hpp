// One half-step of ALS or implicit ALS solved row by row where the rows are (issue 15): the trainer
// packs what every row's solve needs besides its own interactions (the parameters, both sides' ids
// and factors) into one buffer, which Citus broadcasts to each worker once per half-step; a worker
// unpacks it once per half-step and solves each of its rows from that row's interactions alone, with
// the same ExplicitHalfStep / ImplicitHalfStep code the single-node trainers run. So the factors
// equal single-node training's bit for bit (core/als.hpp, core/ials.hpp), and only factors cross the
// network, never interaction rows.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/als.hpp"
#include "core/ials.hpp"
#include "core/interactions.hpp"

namespace rec::core {

// What the trainer knows of a half-step: the side being solved is "own", the other side is fixed.
struct HalfStepInputs
{
    ModelKind kind = ModelKind::ExplicitAls;  // ExplicitAls or ImplicitAls
    AlsParams als;                            // for ExplicitAls (noise_variance must be 0)
    ImplicitParams ials;                      // for ImplicitAls
    double global_mean = 0;                   // ExplicitAls: μ of every (merged) rating
    DuplicatePolicy policy = DuplicatePolicy::Average;
    uint64_t token = 0;  // different for every half-step of every run: workers unpack each once
    size_t other_rows = 0, own_rows = 0;
    const int64_t *other_ids = nullptr, *own_ids = nullptr;  // ascending, as Interactions's
    const float *other_factors = nullptr, *other_bias = nullptr;
    const float *own_factors = nullptr, *own_bias = nullptr;  // the previous values (CG's warm start)
    // ImplicitAls: YᵀY + λI of the other side (ImplicitHalfStep::gram), factors × factors, so that no
    // worker backend computes it again.
    const float *gram = nullptr;
};

// One row's raw (id, value) entries as build_interactions stores them: sorted by id, a repeated id
// merged by the policy (its values summed in double, which is exact for the few repeats of a pair, so
// the order rows come in does not matter).
// In place; returns how many entries are left at the front of both arrays.
size_t merge_repeats(int64_t *ids, float *values, size_t count, DuplicatePolicy policy);

// The packed form, a byte string in this machine's byte order (every node of a cluster shares it):
// its size, and the bytes written into `out` (packed_size bytes), or as a vector.
size_t packed_size(const HalfStepInputs &inputs);
void pack_half_step(const HalfStepInputs &inputs, char *out);
std::vector<char> pack_half_step(const HalfStepInputs &inputs);

// The token of a packed half-step, read without unpacking it; 0 if the buffer is too short.
uint64_t packed_token(const void *buffer, size_t length);
// How many leading bytes packed_token reads.
size_t packed_header_bytes();

// What solving one row gives: its new bias and factors, its share of the training loss (ALS: its
// squared error; implicit ALS: its part of the objective) and its entries after duplicates merged.
struct SolvedRow
{
    float bias = 0;
    std::vector<float> factors;
    double loss = 0;
    size_t entries = 0;
};

// A solved row as a worker returns it: bias and factors (float), loss (double), entries, packed in
// solved_row_bytes(k) bytes. decode_solved_row returns false for a buffer of another size.
size_t solved_row_bytes(int k);
void encode_solved_row(const SolvedRow &row, char *out);
bool decode_solved_row(const char *buffer, size_t length, int k, float *bias, float *factors, double *loss,
                       int64_t *entries);

class RowSolver
{
public:
    // Throws std::invalid_argument for a buffer that is not a packed half-step.
    RowSolver(const void *buffer, size_t length, HostHooks &hooks);
    ~RowSolver();
    uint64_t token() const { return token_; }
    // Solves row `own_id` from its interactions: other-side ids (any order, repeats merged by the
    // policy as build_interactions merges them) and values. Entries whose id the other side does not
    // have (rows added after the run listed the ids) are left out. Returns false, solving nothing,
    // when `own_id` is not one of the own side's ids or no entry is left.
    bool solve(int64_t own_id, const int64_t *ids, const float *values, size_t count, SolvedRow &out,
               HostHooks &hooks) const;

private:
    struct State;
    std::unique_ptr<State> state_;
    uint64_t token_ = 0;
};

}  // namespace rec::core
