// The one bridge between C++ and PostgreSQL error handling.
//
// PostgreSQL raises errors with ereport(ERROR), which longjmps; C++ raises exceptions, which unwind.
// Neither may cross the other's frames: a longjmp skips C++ destructors, an exception cannot pass
// through PostgreSQL's C frames. So:
//   - every SQL-callable function is defined with PGREC_FUNCTION, whose body runs inside cpp_call():
//     a C++ exception leaving the body is caught, and the PostgreSQL error raised only after the catch
//     block has closed;
//   - C++ code that calls something that may ereport(ERROR) while C++ objects with destructors are
//     alive wraps the call in pg_call(), which turns the error into a PgError exception;
//   - plain PostgreSQL-style code (no live C++ objects with destructors) may ereport directly.
#pragma once
#include "pg/postgres_headers.hpp"

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

namespace rec::pg {

// An error raised by our own C++ code, with the SQLSTATE and hint the user will see.
class SqlError : public std::exception
{
public:
    SqlError(int sqlstate, std::string message, std::string hint = {})
        : sqlstate_(sqlstate), message_(std::move(message)), hint_(std::move(hint))
    {}
    const char *what() const noexcept override { return message_.c_str(); }
    int sqlstate() const { return sqlstate_; }
    const std::string &hint() const { return hint_; }

private:
    int sqlstate_;
    std::string message_, hint_;
};

// A PostgreSQL error caught by pg_call, carried through C++ frames to be raised again.
class PgError : public std::exception
{
public:
    explicit PgError(ErrorData *data) : data_(data) {}
    const char *what() const noexcept override { return data_->message ? data_->message : "PostgreSQL error"; }
    ErrorData *data() const { return data_; }

private:
    ErrorData *data_;
};

// What cpp_call keeps of an exception: plain storage, so that no C++ object is alive when it reports.
struct CaughtException
{
    ErrorData *pg_error = nullptr;
    int sqlstate = 0;
    char message[1024] = {};
    char hint[512] = {};
};

void capture_current_exception(CaughtException &out) noexcept;
[[noreturn]] void raise_caught(const CaughtException &caught);

// How many of our SQL-callable functions are running in this backend (one calling SQL that calls
// another makes two). Raised and lowered by PGREC_FUNCTION; an error skips the lowering, so it may
// count too many until the transaction ends (model_cache resets it), never too few.
extern int running_sql_functions;

// Runs C++ code from a PostgreSQL frame: exceptions become PostgreSQL errors.
template <typename F>
auto
cpp_call(F &&body) -> decltype(body())
{
    CaughtException caught;
    try
    {
        return body();
    }
    catch (...)
    {
        capture_current_exception(caught);
    }
    raise_caught(caught);
}

// Runs PostgreSQL code from C++: an ereport(ERROR) becomes a PgError exception. `body` itself must
// create no C++ object with a destructor.
template <typename F>
void
pg_call(F &&body)
{
    MemoryContext context = CurrentMemoryContext;
    ErrorData *volatile error = nullptr;
    PG_TRY();
    {
        body();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        error = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    if (error)
        throw PgError(error);
}

}  // namespace rec::pg

// Defines an SQL-callable function whose body runs under cpp_call.
#define PGREC_FUNCTION(name)                                                                                           \
    static Datum name##_body(FunctionCallInfo fcinfo);                                                                 \
    extern "C" {                                                                                                       \
    PG_FUNCTION_INFO_V1(name);                                                                                         \
    }                                                                                                                  \
    Datum name(PG_FUNCTION_ARGS)                                                                                       \
    {                                                                                                                  \
        ++rec::pg::running_sql_functions;                                                                              \
        const Datum result = rec::pg::cpp_call([fcinfo] { return name##_body(fcinfo); });                              \
        --rec::pg::running_sql_functions;                                                                              \
        return result;                                                                                                 \
    }                                                                                                                  \
    static Datum name##_body(FunctionCallInfo fcinfo)
