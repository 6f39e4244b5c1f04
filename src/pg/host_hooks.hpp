// The core's host hooks for a PostgreSQL backend: interrupts are processed between parallel chunks
// (on the backend's own thread), and progress is reported as NOTICEs.
#pragma once
#include "pg/bridge.hpp"

#include "core/training.hpp"

namespace rec::pg {

class BackendHooks : public rec::core::TrainHooks
{
public:
    explicit BackendHooks(int iterations = 0) : iterations_(iterations) {}

    // A pending cancel or timeout raises its error here, as a PgError carried out of the core.
    void poll() override
    {
        if (INTERRUPTS_PENDING_CONDITION())
            pg_call([] { CHECK_FOR_INTERRUPTS(); });
    }

    void iteration_done(const rec::core::IterationStats &s) override
    {
        pg_call([&] {
            if (s.validation_metric)
                ereport(NOTICE, (errmsg("iteration %d/%d: %s %.4f, %s %.4f, %.2f s", s.iteration, iterations_, s.metric,
                                        s.value, s.validation_metric, s.validation_value, s.seconds)));
            else
                ereport(NOTICE, (errmsg("iteration %d/%d: %s %.4f, %.2f s", s.iteration, iterations_, s.metric, s.value,
                                        s.seconds)));
        });
    }

private:
    int iterations_;
};

}  // namespace rec::pg
