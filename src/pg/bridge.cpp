#include "pg/bridge.hpp"

#include "core/memory.hpp"
#include "core/training.hpp"

#include <cstring>
#include <new>
#include <stdexcept>

namespace rec::pg {

int running_sql_functions = 0;

void
capture_current_exception(CaughtException &out) noexcept
{
    try
    {
        throw;
    }
    catch (const PgError &e)
    {
        out.pg_error = e.data();
    }
    catch (const SqlError &e)
    {
        out.sqlstate = e.sqlstate();
        strlcpy(out.message, e.what(), sizeof(out.message));
        strlcpy(out.hint, e.hint().c_str(), sizeof(out.hint));
    }
    catch (const rec::core::MemoryLimitExceeded &e)
    {
        out.sqlstate = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
        strlcpy(out.message, e.what(), sizeof(out.message));
        strlcpy(out.hint, "Raise rec.max_memory, or use fewer factors or a smaller source.", sizeof(out.hint));
    }
    catch (const std::bad_alloc &)
    {
        out.sqlstate = ERRCODE_OUT_OF_MEMORY;
        strlcpy(out.message, "out of memory", sizeof(out.message));
        strlcpy(out.hint, "Lower rec.max_memory to refuse such work up front, or train a smaller model.",
                sizeof(out.hint));
    }
    catch (const rec::core::TrainingDiverged &e)
    {
        out.sqlstate = ERRCODE_FLOATING_POINT_EXCEPTION;
        strlcpy(out.message, e.what(), sizeof(out.message));
    }
    catch (const std::invalid_argument &e)
    {
        out.sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
        strlcpy(out.message, e.what(), sizeof(out.message));
    }
    catch (const std::length_error &e)
    {
        out.sqlstate = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
        strlcpy(out.message, e.what(), sizeof(out.message));
    }
    catch (const std::exception &e)
    {
        out.sqlstate = ERRCODE_INTERNAL_ERROR;
        strlcpy(out.message, e.what(), sizeof(out.message));
    }
    catch (...)
    {
        out.sqlstate = ERRCODE_INTERNAL_ERROR;
        strlcpy(out.message, "unknown C++ exception", sizeof(out.message));
    }
}

void
raise_caught(const CaughtException &caught)
{
    if (caught.pg_error)
        ReThrowError(caught.pg_error);
    ereport(ERROR,
            (errcode(caught.sqlstate), errmsg("%s", caught.message), caught.hint[0] ? errhint("%s", caught.hint) : 0));
    pg_unreachable();
}

}  // namespace rec::pg
