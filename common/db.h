/* SQLite access shared by the engine's modules: open in WAL mode, run statements, migrate. */
#pragma once

#include <sqlite3.h>

#include "common/gerr.h"

/* Open (creating) path in WAL mode with a busy timeout; foreign keys on. */
int db_open(const char *path, sqlite3 **out, struct gerr **err);
void db_close(sqlite3 *db);
/* Run one or more statements without results (schema, BEGIN/COMMIT). */
int db_exec(sqlite3 *db, const char *sql, struct gerr **err);
/* Prepare sql; the error names the statement. */
int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, struct gerr **err);
/* Step a statement expected to finish (INSERT/UPDATE/DELETE): SQLITE_DONE -> 0. A constraint
 * violation becomes EEXIST. */
int db_step_done(sqlite3 *db, sqlite3_stmt *st, struct gerr **err);
static inline void db_finalizep(sqlite3_stmt **st)
{
        sqlite3_finalize(*st);
}
#define _cleanup_stmt_ __attribute__((cleanup(db_finalizep)))
