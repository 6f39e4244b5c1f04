// The core's host hooks for a PostgreSQL backend: interrupts are processed between parallel chunks
// (on the backend's own thread), and progress is reported as NOTICEs.
#pragma once
#include "pg/bridge.hpp"

#include "core/als.hpp"

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
            if (validation_metric_)
                ereport(NOTICE, (errmsg("iteration %d/%d: %s %.4f, %s %.4f, %.2f s", s.iteration, iterations_, s.metric,
                                        s.value, validation_metric_, validation_value_, s.seconds)));
            else
                ereport(NOTICE, (errmsg("iteration %d/%d: %s %.4f, %.2f s", s.iteration, iterations_, s.metric,
                                        s.value, s.seconds)));
        });
    }

protected:
    // Set by a subclass that validates, to be reported with the iteration.
    const char *validation_metric_ = nullptr;
    double validation_value_ = 0;

private:
    int iterations_;
};

}  // namespace rec::pg
