/* store_int.h: the inside of sb_store, for the modules of engine/store (and the tests,
 * which may reach inside). The rest of the engine sees sb_store as an opaque handle and
 * calls the record modules' typed functions; only these modules call SQLite.
 *
 * Statements: a statement run per order, line or row is cached (sb_store_cached, one
 * cache per connection, keyed by the address of its static SQL); one run once a command
 * or a run is prepared and finalized (sb_store_prepare). sb_store_get / sb_store_put pick
 * between the two for modules that have both kinds. */
#ifndef SB_STORE_INT_H
#define SB_STORE_INT_H
#include <sqlite3.h>
#include "store/rows.h"
#include "store/store.h"

#define SB_STORE_CACHE 128

struct sb_store {
    sqlite3 *db;
    char *path;
    int lock_fd;                /* engine lock (sb_store_lock_engine), -1 if not held */
    struct { const char *sql; sqlite3_stmt *st; } cache[SB_STORE_CACHE];  /* sb_store_cached */
    int ncached;
    int64_t now_sec;            /* sb_store_now's second, and its text */
    char now_str[24];
};

/* Runs sql (any number of statements, no rows wanted); SB_EIO "database: message". */
int sb_store_exec(sb_store *s, const char *sql, char *err);
/* Prepares sql; on failure err has SQLite's message. */
int sb_store_prepare(sb_store *s, const char *sql, sqlite3_stmt **st, char *err);
/* For statements run per order or per line: prepared once per store, keyed by the
 * address of sql (a static string), finalized by sb_store_close. *st comes reset with
 * its bindings cleared; the caller resets it when done and never finalizes it. */
int sb_store_cached(sb_store *s, const char *sql, sqlite3_stmt **st, char *err);
/* Runs sql (a write that returns no row) with ?1 = integ and ?2 = name; a failure is
 * SB_EIO with "what: message". For the per-(integration, name) rows: settings,
 * credentials. */
int sb_store_run_named(sb_store *s, const char *sql, int64_t integ, const char *name, const char *what, char *err);
/* Formats the current SQLite error as "what: message" into err and returns SB_EIO. */
int sb_store_error(sb_store *s, const char *what, char *err);
/* Column i of the current row as text into out (n bytes, cut to fit); "" when NULL. */
void sb_store_col_text(sqlite3_stmt *st, int i, char *out, size_t n);


/* A search term as a LIKE pattern for "LIKE ?n ESCAPE '\'": %term% with '%', '_' and the backslash
 * escaped, the term cut at max bytes; out needs 2 * max + 3 bytes. Returns out. */
char *sb_store_like(const char *term, size_t max, char *out);

/* How a statement is held: SB_STORE_PER_ROW from the cache, SB_STORE_ONCE prepared now
 * and finalized by sb_store_put. */
enum { SB_STORE_PER_ROW = 0, SB_STORE_ONCE = 1 };
int sb_store_get(sb_store *s, const char *sql, int once, sqlite3_stmt **st, char *err);
/* Gives st back: finalized when once, else reset with its bindings cleared. */
void sb_store_put(sqlite3_stmt *st, int once);
/* Steps a write st (already bound) to its end and gives it back (sb_store_put); SB_EIO
 * "what: SQLite's message" unless it ran to SQLITE_DONE. */
int sb_store_step_done(sb_store *s, sqlite3_stmt *st, int once, const char *what, char *err);
/* Binds v at i, or NULL when v is NULL or ""; v is not copied and must outlive the step. */
void sb_store_bind_opt(sqlite3_stmt *st, int i, const char *v);

/* Row loops for the read-only rows of store/rows.h. */
/* Prepares sql (a statement run once a call); SB_EIO "what: message". */
int sb_store_rows_prepare(sb_store *s, const char *sql, sqlite3_stmt **st, const char *what, char *err);
/* Steps st to its end, calling fn with each row; SB_EIO "what: message" when a step
 * fails. Does not reset or finalize st. */
int sb_store_rows_each(sb_store *s, sqlite3_stmt *st, sb_store_row_fn fn, void *ctx, const char *what, char *err);
/* The same for two-column (name, count) statements. */
int sb_store_rows_counts(sb_store *s, sqlite3_stmt *st, sb_store_count_fn fn, void *ctx, const char *what, char *err);
/* The first column of st's one row (a COUNT(*)) into *n; SB_EIO when there is no row. */
int sb_store_rows_count(sb_store *s, sqlite3_stmt *st, long *n, const char *what, char *err);

#endif
