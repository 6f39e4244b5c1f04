// The library's entry point: PostgreSQL calls _PG_init when it loads pg_recommend (at server start
// with shared_preload_libraries, else in each backend that first uses it). Each module sets itself up.
#include "pg/postgres_headers.hpp"
#include "pg/model_cache.hpp"
#include "pg/serving.hpp"
#include "pg/settings.hpp"
#include "pg/worker_threads.hpp"

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);

void
_PG_init(void)
{
    rec::pg::define_settings();
    rec::pg::setup_model_cache();
    rec::pg::setup_worker_threads();
    rec::pg::setup_serving();
    MarkGUCPrefixReserved("rec");
}
}
