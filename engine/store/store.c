/* store.c: the SQLite connection, migrations and transactions (see store.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/log.h"
#include "core/util.h"
#include "store/lookup.h"
#include "store/store_int.h"

void sb_store_col_text(sqlite3_stmt *st, int i, char *out, size_t n) {
    const unsigned char *v = sqlite3_column_text(st, i);
    snprintf(out, n, "%s", v ? (const char *)v : "");
}

int sb_store_error(sb_store *s, const char *what, char *err) {
    return sb_seterr(err, SB_EIO, "%s: %s", what, sqlite3_errmsg(s->db));
}

int sb_store_exec(sb_store *s, const char *sql, char *err) {
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = sb_seterr(err, SB_EIO, "database: %s", msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

int sb_store_prepare(sb_store *s, const char *sql, sqlite3_stmt **st, char *err) {
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return sb_store_error(s, "database", err);
    return 0;
}

int sb_store_cached(sb_store *s, const char *sql, sqlite3_stmt **st, char *err) {
    int i;
    for (i = 0; i < s->ncached; i++)
        if (s->cache[i].sql == sql) break;
    if (i == s->ncached) {
        if (i == SB_STORE_CACHE) return sb_seterr(err, SB_ERR, "database: more than %d cached statements", SB_STORE_CACHE);
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->cache[i].st, NULL) != SQLITE_OK)
            return sb_store_error(s, "database", err);
        s->cache[i].sql = sql;
        s->ncached++;
    }
    *st = s->cache[i].st;
    sqlite3_reset(*st);
    sqlite3_clear_bindings(*st);
    return 0;
}

char *sb_store_like(const char *term, size_t max, char *out) {
    size_t k = 0;
    out[k++] = '%';
    for (const char *p = term; *p && (size_t)(p - term) < max; p++) {
        if (*p == '%' || *p == '_' || *p == '\\') out[k++] = '\\';
        out[k++] = *p;
    }
    out[k++] = '%';
    out[k] = '\0';
    return out;
}

int sb_store_get(sb_store *s, const char *sql, int once, sqlite3_stmt **st, char *err) {
    return once ? sb_store_prepare(s, sql, st, err) : sb_store_cached(s, sql, st, err);
}

void sb_store_put(sqlite3_stmt *st, int once) {
    if (once) {
        sqlite3_finalize(st);
        return;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int sb_store_step_done(sb_store *s, sqlite3_stmt *st, int once, const char *what, char *err) {
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sb_store_error(s, what, err);
    sb_store_put(st, once);
    return rc;
}

void sb_store_bind_opt(sqlite3_stmt *st, int i, const char *v) {
    if (v && *v) sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, i);
}

int sb_store_run_named(sb_store *s, const char *sql, int64_t integ, const char *name, const char *what, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, what, err);
    sqlite3_finalize(st);
    return rc;
}

/* BEGIN and COMMIT run once per batch of orders, the savepoints once per order: prepared
 * once, like the per-order statements. */
static const char begin_sql[] = "BEGIN IMMEDIATE", commit_sql[] = "COMMIT";
static const char part_sql[] = "SAVEPOINT sb_part", part_end_sql[] = "RELEASE sb_part",
                  part_undo_sql[] = "ROLLBACK TO sb_part";

static int run_cached(sb_store *s, const char *sql, char *err) {
    sqlite3_stmt *st = NULL;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_seterr(err, SB_EIO, "database: %s", sqlite3_errmsg(s->db));
    sqlite3_reset(st);
    return rc;
}

int sb_store_begin(sb_store *s, char *err) { return run_cached(s, begin_sql, err); }
int sb_store_begin_read(sb_store *s, char *err) { return sb_store_exec(s, "BEGIN", err); }
int sb_store_commit(sb_store *s, char *err) {
    int rc = run_cached(s, commit_sql, err);
    if (rc) sb_store_rollback(s);
    return rc;
}
void sb_store_rollback(sb_store *s) {
    if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int sb_store_part_begin(sb_store *s, char *err) { return run_cached(s, part_sql, err); }
int sb_store_part_end(sb_store *s, char *err) { return run_cached(s, part_end_sql, err); }
void sb_store_part_undo(sb_store *s) {
    char err[SB_ERRLEN];
    /* ROLLBACK TO leaves the savepoint open: RELEASE ends it, the transaction stays */
    if (!run_cached(s, part_undo_sql, err)) run_cached(s, part_end_sql, err);
}

int sb_store_user_version(sb_store *s) {
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int sb_store_migrate(sb_store *s, int target, char *err) {
    int latest = sb_store_schema_version();
    if (target <= 0 || target > latest) target = latest;
    int v = sb_store_user_version(s);
    if (v < 0) return sb_store_error(s, "reading schema version", err);
    if (v > latest)
        return sb_seterr(err, SB_ESCHEMA,
                         "%s: database schema version %d is newer than this program "
                         "understands (%d); use a newer sellerbridge", s->path, v, latest);
    for (int n = v + 1; n <= target; n++) {
        char e[SB_ERRLEN], pragma[48];
        int rc = sb_store_begin(s, e);
        if (!rc) rc = sb_store_exec(s, sb_store_migration(n), e);
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", n);
        if (!rc) rc = sb_store_exec(s, pragma, e);
        if (!rc) rc = sb_store_commit(s, e);
        if (rc) {
            sb_store_rollback(s);
            return sb_seterr(err, rc, "%s: migration to schema %d failed: %s", s->path, n, e);
        }
        if (v > 0) sb_info("database migrated path=%s from=%d to=%d", s->path, n - 1, n);
    }
    return 0;
}

/* Creates path as an empty file of mode 0600 (whatever the umask) unless it exists. */
static int create_private(const char *path, char *err) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return errno == EEXIST ? 0 : sb_seterr(err, SB_EIO, "%s: cannot create database: %s", path, strerror(errno));
    int rc = fchmod(fd, 0600) == 0 ? 0 : sb_seterr(err, SB_EIO, "%s: cannot make it private: %s", path, strerror(errno));
    close(fd);
    return rc;
}

int sb_store_open(const char *path, int flags, sb_store **out, char *err) {
    int rc = 0;
    sb_store *s = calloc(1, sizeof *s);
    if (!s) return SB_ENOMEM;
    s->lock_fd = -1;
    s->path = strdup(path);
    if (!(flags & SB_STORE_CREATE) && access(path, F_OK) != 0) {
        rc = sb_seterr(err, SB_ENOTFOUND, "%s: no database here; run 'sellerbridge init' "
                       "first (or pass --db PATH / set SELLERBRIDGE_DB)", path);
        goto out;
    }
    /* SQLite makes a new database 0644 less the umask, and its -wal and -shm files with
     * the database's mode: made here first as 0600, all three hold only for this user */
    if ((flags & SB_STORE_CREATE) && strcmp(path, ":memory:") && strncmp(path, "file:", 5) &&
        (rc = create_private(path, err))) goto out;
    int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                 ((flags & SB_STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
        rc = sb_seterr(err, SB_EIO, "%s: cannot open database: %s", path,
                       s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(s->db, 5000);
    char e[SB_ERRLEN];
    /* an 8 MiB page cache (SQLite's default is 2): with a hundred thousand orders the
     * indexes on order references and e-mails outgrow 2 MiB, and every page of orders then
     * read index pages back from the file (bench_orders 100000: 4,400 -> 5,900 orders/s,
     * a third less system time, peak RSS 45 -> 52 MiB) */
    /* temp_store in memory: the order pass writes a batch of orders in one transaction,
     * each order a savepoint, and SQLite keeps the pages a savepoint may have to give back
     * in a temporary file otherwise (a write per page touched; bench_orders 20000:
     * 4,800 -> 7,500 orders/s) */
    if ((rc = sb_store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; "
                               "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-8192; PRAGMA temp_store=MEMORY;", e))) {
        rc = sb_seterr(err, rc, "%s: %s", path, e);
        goto out;
    }
    if (!(flags & SB_STORE_NO_MIGRATE) && (rc = sb_store_migrate(s, 0, err))) goto out;
out:
    if (rc) { sb_store_close(s); s = NULL; }
    *out = s;
    return rc;
}

void sb_store_close(sb_store *s) {
    if (!s) return;
    for (int i = 0; i < s->ncached; i++) sqlite3_finalize(s->cache[i].st);
    if (s->db) sqlite3_close_v2(s->db);
    if (s->lock_fd >= 0) close(s->lock_fd);
    free(s->path);
    free(s);
}

int sb_store_integration(sb_store *s, const char *name, int64_t *id, char *name_out,
                         size_t name_len, char *err) {
    sqlite3_stmt *st = NULL;
    int rc = 0, n = 0;
    char names[512] = "";
    if (name) {
        if ((rc = sb_store_prepare(s, "SELECT id, name FROM integrations WHERE name = ?", &st, err))) return rc;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    } else if ((rc = sb_store_prepare(s, "SELECT id, name FROM integrations ORDER BY id", &st, err))) {
        return rc;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n++ == 0) {
            *id = sqlite3_column_int64(st, 0);
            if (name_out) snprintf(name_out, name_len, "%s", (const char *)sqlite3_column_text(st, 1));
        }
        size_t l = strlen(names);
        snprintf(names + l, sizeof names - l, "%s%s", l ? ", " : "", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    if (n == 0)
        return name ? sb_seterr(err, SB_ENOTFOUND, "integration '%s' does not exist "
                                "(see 'sellerbridge integration list')", name)
                    : sb_seterr(err, SB_ENOTFOUND, "no integration yet; run 'sellerbridge init'");
    if (n > 1 && !name)
        return sb_seterr(err, SB_EINVAL, "several integrations (%s): choose one with --integration NAME", names);
    return 0;
}

int sb_store_integration_add(sb_store *s, const char *name, int64_t *id, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, "INSERT INTO integrations(name) VALUES (?)", &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE
                 ? sb_seterr(err, SB_EINVAL, "integration '%s' already exists", name)
                 : sb_store_error(s, "adding integration", err);
    } else if (id) {
        *id = sqlite3_last_insert_rowid(s->db);
    }
    sqlite3_finalize(st);
    return rc;
}

int sb_store_lock_engine(sb_store *s, char *err) {
    char lp[4096];
    if (s->lock_fd >= 0) return 0;          /* this connection holds it already */
    snprintf(lp, sizeof lp, "%s.lock", s->path);
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return sb_seterr(err, SB_EIO, "%s: %s", lp, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        if (n > 0) pid[n] = '\0';
        close(fd);
        return sb_seterr(err, SB_EBUSY, "another sellerbridge engine (pid %s) is running on %s; "
                         "stop it first", n > 0 ? pid : "?", s->path);
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) < 0) { /* informative only */ }
    s->lock_fd = fd;
    return 0;
}

int sb_store_engine_running(sb_store *s, long *pid) {
    char lp[4096], buf[32] = "";
    *pid = 0;
    if (s->lock_fd >= 0) { *pid = (long)getpid(); return 1; }
    snprintf(lp, sizeof lp, "%s.lock", s->path);
    int fd = open(lp, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;                       /* no engine has ever run here */
    int held = flock(fd, LOCK_SH | LOCK_NB) != 0;
    if (held) {
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        if (n > 0) { buf[n] = '\0'; *pid = strtol(buf, NULL, 10); }
    } else {
        flock(fd, LOCK_UN);
    }
    close(fd);
    return held;
}

int sb_store_branch_exists(sb_store *s, const char *n) { return sb_store_has_branch(s, n, NULL) == 1; }

int sb_store_branch_names(sb_store *s, char *out, size_t outlen) {
    sqlite3_stmt *st;
    out[0] = '\0';
    if (sqlite3_prepare_v2(s->db, "SELECT name FROM branches ORDER BY name", -1, &st, NULL) != SQLITE_OK) return SB_EIO;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        size_t l = strlen(out);
        snprintf(out + l, outlen - l, "%s%s", l ? ", " : "", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) { snprintf(out, outlen, "(the branches could not be read)"); return SB_EIO; }
    if (!out[0]) snprintf(out, outlen, "(none yet: import branches first)");
    return 0;
}

const char *sb_store_now(sb_store *s) {
    int64_t t = (int64_t)time(NULL);
    if (t != s->now_sec || !s->now_str[0]) {
        sb_time_format(t, s->now_str, sizeof s->now_str);
        s->now_sec = t;
    }
    return s->now_str;
}

int sb_store_reserve(sb_store *s, int64_t product_id, const char *branch, double delta, char *err) {
    static const char *sql =
        "INSERT INTO stock(product_id, branch_id, on_hand, reserved, updated_at) "
        "SELECT ?1, id, 0, ?3, ?4 FROM branches WHERE name = ?2 "
        "ON CONFLICT(product_id, branch_id) DO UPDATE SET reserved = reserved + excluded.reserved, "
        "updated_at = excluded.updated_at";
    sqlite3_stmt *st;
    if (delta == 0 || !branch || !product_id) return 0;
    /* called for every line of every order: prepared once per store, not per call */
    if (sb_store_cached(s, sql, &st, err)) return SB_EIO;
    sqlite3_bind_int64(st, 1, product_id);
    sqlite3_bind_text(st, 2, branch, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, delta);
    sqlite3_bind_text(st, 4, sb_store_now(s), -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sb_store_error(s, "reserving stock", err);
    sqlite3_reset(st);
    return rc;
}

int sb_store_reserve_order(sb_store *s, int64_t order_id, const char *branch, int sign, char *err) {
    /* one statement: each line's open quantity onto its (product, branch) row, rows made
     * when missing; a product on two lines is added twice, row by row */
    static const char *sql =
        "INSERT INTO stock(product_id, branch_id, on_hand, reserved, updated_at) "
        "SELECT l.product_id, b.id, 0, ?3 * (l.qty - l.qty_dispatched), ?4 FROM sales_order_lines l "
        "JOIN sales_orders o ON o.id = l.order_id JOIN branches b ON b.name = COALESCE(?2, o.branch) "
        "WHERE l.order_id = ?1 AND l.stock_bearing = 1 AND l.product_id IS NOT NULL "
        "AND o.stage IN ('open','needs_attention') AND COALESCE(o.fulfilled_by, '') <> 'AMAZON' "
        "AND l.qty - l.qty_dispatched <> 0 "
        "ON CONFLICT(product_id, branch_id) DO UPDATE SET reserved = reserved + excluded.reserved, "
        "updated_at = excluded.updated_at";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, order_id);
    if (branch) sqlite3_bind_text(st, 2, branch, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, sign);
    sqlite3_bind_text(st, 4, sb_store_now(s), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, "reserving stock", err);
    sqlite3_reset(st);
    return rc;
}
