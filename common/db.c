/* SQLite access shared by the engine's modules: open in WAL mode, run statements, migrate. */
#include "common/db.h"

#include <errno.h>
#include <stddef.h>

int db_open(const char *path, sqlite3 **out, struct gerr **err)
{
        sqlite3 *db = NULL;
        int rc = sqlite3_open_v2(path, &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                         SQLITE_OPEN_FULLMUTEX,
                                 NULL);
        if (rc != SQLITE_OK) {
                int r = gerr_set(err, EIO, "open database %s: %s", path,
                                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
                sqlite3_close(db);
                return r;
        }
        sqlite3_busy_timeout(db, 5000);
        /* WAL: readers never block the writer; NORMAL sync is durable across process crashes
         * (kill -9), which is what the daemon must survive. */
        /* A 256 KiB page cache (SQLite's default is 2 MiB) and no mmap: the database of a
         * daemon is small and hot in the kernel's page cache anyway; every cached page is
         * gantryd PSS. */
        int r = db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                            "PRAGMA foreign_keys=ON; PRAGMA cache_size=-256; PRAGMA mmap_size=0;",
                        err);
        if (r < 0) {
                sqlite3_close(db);
                return r;
        }
        *out = db;
        return 0;
}

void db_close(sqlite3 *db)
{
        sqlite3_close(db);
}

int db_exec(sqlite3 *db, const char *sql, struct gerr **err)
{
        char *msg = NULL;
        if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
                int r = gerr_set(err, EIO, "database: %s", msg ? msg : sqlite3_errmsg(db));
                sqlite3_free(msg);
                return r;
        }
        return 0;
}

int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, struct gerr **err)
{
        if (sqlite3_prepare_v2(db, sql, -1, out, NULL) != SQLITE_OK)
                return gerr_set(err, EIO, "database: prepare \"%.60s\": %s", sql,
                                sqlite3_errmsg(db));
        return 0;
}

int db_step_done(sqlite3 *db, sqlite3_stmt *st, struct gerr **err)
{
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE || rc == SQLITE_ROW)
                return 0;
        if ((rc & 0xff) == SQLITE_CONSTRAINT)
                return gerr_set(err, EEXIST, "database: %s", sqlite3_errmsg(db));
        return gerr_set(err, EIO, "database: %s", sqlite3_errmsg(db));
}
