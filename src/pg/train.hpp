// Training runs, shared by CALL rec.train (one run) and CALL rec.tune (one run per trial, all from the
// rows read once): read the source and the validation source, index the rows, train in the core,
// store the new version and deploy it as asked.
#pragma once
#include "pg/source_reader.hpp"
#include "pg/train_options.hpp"

namespace rec::pg {

// The rows a run learns from and is judged on, read once with the caller's rights.
struct TrainingRows
{
    SourceSpec source;
    SourceRows rows;
    const char *validation_source;  // NULL: none
    SourceRows validation;
    double half_life_seconds = 0;         // with source.time_column: the recency weights' half-life
    rec::core::CleaningOptions cleaning;  // applied once the rows are indexed
};

// Reads the source (and the validation source, whose ids must be of the same types); values must not be
// negative for implicit algorithms (`implicit_values`). Says how long reading took in a NOTICE.
// With source.time_column, each row is weighted 0.5^(age / half_life), its age counted from the
// newest row of the source (validation rows are not weighted).
TrainingRows read_training_rows(const char *model, const SourceSpec &source, const char *validation_source,
                                bool implicit_values, size_t budget, double half_life_seconds = 0);

// The rows indexed for training (users and items numbered, both compressed copies, duplicates merged,
// the validation set mapped onto them): C++ objects owned by a memory context, freed with it. The
// rows' arrays are freed (and set to NULL) as indexing goes. What the run holds from here on is counted
// against `budget` (rec.max_memory): 54000 before an allocation would exceed it.
struct IndexedRows;
IndexedRows *index_training_rows(TrainingRows &rows, Algorithm algorithm, MemoryContext owner, size_t budget);

struct RunOptions
{
    bool deploy = true;                   // serve the new version at once
    bool early_stopping = false;          // stop when the validation metric stops improving
    bool deploy_if_better = false;        // deploy only if not worse than the deployed version
    const char *item_features = nullptr;  // a feature table: factors for items from their features
};

struct TrainedVersion
{
    int64 model_id;
    int32 version;
    bool deployed;
    bool validated;
    const char *validation_metric;  // with a validation source: its name and last value
    double validation_value;
    bool lower_is_better;
};

// Trains one version (the spec's algorithm must be the one the rows were indexed for), stores it and
// deploys it as `run` asks; reports each iteration and the result (and the peak of memory counted) in
// NOTICEs.
TrainedVersion train_version(const char *model, const TrainSpec &spec, const TrainingRows &rows, IndexedRows *indexed,
                             const RunOptions &run);

// Trainings of one model name are serialized by a transaction-level lock on the name: the second waits,
// or fails with 55P03 when `wait` is false.
void lock_model_name(const char *name, bool wait);

}  // namespace rec::pg
