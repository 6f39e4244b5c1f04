// Included last by every src/core/*.cpp: the numeric core must build without PostgreSQL, so that it can
// be unit-tested on its own and so that no OpenMP thread can reach a PostgreSQL function by accident.
#pragma once
#ifdef POSTGRES_H
#error "src/core must not include PostgreSQL headers; put PostgreSQL code in src/pg"
#endif
