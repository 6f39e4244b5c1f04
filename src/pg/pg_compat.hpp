// The one place that knows PostgreSQL's major versions (issue 16): each difference between the
// releases pg_recommend builds against (15, 17, 18) is bridged here, as pgvector and Citus do, so
// that no other file tests PG_VERSION_NUM. Included by pg/postgres_headers.hpp.
#pragma once

// PostgreSQL 16 added ExecInsertIndexTuples's onlySummarizing argument (false: every index).
#if PG_VERSION_NUM >= 160000
#define REC_EXEC_INSERT_INDEX_TUPLES(result, slot, estate)                                                             \
    ExecInsertIndexTuples((result), (slot), (estate), false, false, nullptr, NIL, false)
#else
#define REC_EXEC_INSERT_INDEX_TUPLES(result, slot, estate)                                                             \
    ExecInsertIndexTuples((result), (slot), (estate), false, false, nullptr, NIL)
#endif

// PostgreSQL 16 gave stringToQualifiedNameList an error-context argument (NULL: raise errors).
#if PG_VERSION_NUM >= 160000
#define REC_STRING_TO_QUALIFIED_NAME_LIST(name) stringToQualifiedNameList((name), nullptr)
#else
#define REC_STRING_TO_QUALIFIED_NAME_LIST(name) stringToQualifiedNameList(name)
#endif

// This backend's index among MaxBackends, from 0 (-1 if it has none): PostgreSQL 17 renamed the
// 1-based MyBackendId to the 0-based MyProcNumber (regular backends come first, below MaxBackends).
#if PG_VERSION_NUM >= 170000
#define REC_MY_BACKEND_INDEX() (MyProcNumber == INVALID_PROC_NUMBER ? -1 : int(MyProcNumber))
#else
#define REC_MY_BACKEND_INDEX() (MyBackendId == InvalidBackendId ? -1 : int(MyBackendId) - 1)
#endif
