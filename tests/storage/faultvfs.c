/* faultvfs.c: see faultvfs.h. Each file opened through the VFS is wrapped by a small
 * struct whose io methods count writes and syncs and return the armed error instead of
 * calling the real method: SQLITE_IOERR_WRITE, SQLITE_IOERR_FSYNC or SQLITE_FULL. */
#include <string.h>
#include <sqlite3.h>
#include "faultvfs.h"

faultvfs_state faultvfs;
static sqlite3_vfs *real;
static sqlite3_vfs vfs;

typedef struct ffile { sqlite3_file base; sqlite3_file *real; int wal; } ffile;
#define REAL(f) (((ffile *)(f))->real)

static int f_close(sqlite3_file *f) { int rc = REAL(f)->pMethods->xClose(REAL(f)); sqlite3_free(REAL(f)); return rc; }
static int f_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o) { return REAL(f)->pMethods->xRead(REAL(f), b, n, o); }
static int f_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o) {
    faultvfs.writes++;
    long nth = ((ffile *)f)->wal ? ++faultvfs.wal_writes : ++faultvfs.db_writes;
    long arm = ((ffile *)f)->wal ? faultvfs.fail_wal_write : faultvfs.fail_db_write;
    if ((faultvfs.fail_write && faultvfs.writes == faultvfs.fail_write) || (arm && nth == arm)) {
        faultvfs.injected++;
        return SQLITE_IOERR_WRITE;
    }
    if (faultvfs.full_after && faultvfs.bytes + n > faultvfs.full_after) { faultvfs.injected++; return SQLITE_FULL; }
    faultvfs.bytes += n;
    return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 s) { return REAL(f)->pMethods->xTruncate(REAL(f), s); }
static int f_sync(sqlite3_file *f, int fl) {
    faultvfs.syncs++;
    if (faultvfs.fail_sync && faultvfs.syncs == faultvfs.fail_sync) { faultvfs.injected++; return SQLITE_IOERR_FSYNC; }
    return REAL(f)->pMethods->xSync(REAL(f), fl);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *s) { return REAL(f)->pMethods->xFileSize(REAL(f), s); }
static int f_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int f_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int f_check(sqlite3_file *f, int *r) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r); }
static int f_fcntl(sqlite3_file *f, int op, void *a) { return REAL(f)->pMethods->xFileControl(REAL(f), op, a); }
static int f_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int f_dev(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int f_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp) {
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}
static int f_shmlock(sqlite3_file *f, int off, int n, int fl) { return REAL(f)->pMethods->xShmLock(REAL(f), off, n, fl); }
static void f_shmbarrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int f_shmunmap(sqlite3_file *f, int del) { return REAL(f)->pMethods->xShmUnmap(REAL(f), del); }

static const sqlite3_io_methods methods = {
    2, f_close, f_read, f_write, f_truncate, f_sync, f_size, f_lock, f_unlock, f_check, f_fcntl, f_sector, f_dev,
    f_shmmap, f_shmlock, f_shmbarrier, f_shmunmap, NULL, NULL,
};

static int v_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out) {
    ffile *ff = (ffile *)f;
    ff->real = sqlite3_malloc(real->szOsFile);
    if (!ff->real) return SQLITE_NOMEM;
    memset(ff->real, 0, (size_t)real->szOsFile);
    int rc = real->xOpen(real, name, ff->real, flags, out);
    if (rc != SQLITE_OK || !ff->real->pMethods) {
        sqlite3_free(ff->real);
        ff->base.pMethods = NULL;
        return rc;
    }
    ff->base.pMethods = &methods;
    ff->wal = (flags & SQLITE_OPEN_WAL) != 0;
    (void)v;
    return SQLITE_OK;
}
static int v_delete(sqlite3_vfs *v, const char *n, int s) { return real->xDelete(real, n, s); }
static int v_access(sqlite3_vfs *v, const char *n, int fl, int *r) { return real->xAccess(real, n, fl, r); }
static int v_full(sqlite3_vfs *v, const char *n, int len, char *out) { return real->xFullPathname(real, n, len, out); }
static void *v_dlopen(sqlite3_vfs *v, const char *n) { return real->xDlOpen(real, n); }
static void v_dlerror(sqlite3_vfs *v, int n, char *m) { real->xDlError(real, n, m); }
static void (*v_dlsym(sqlite3_vfs *v, void *h, const char *s))(void) { return real->xDlSym(real, h, s); }
static void v_dlclose(sqlite3_vfs *v, void *h) { real->xDlClose(real, h); }
static int v_random(sqlite3_vfs *v, int n, char *o) { return real->xRandomness(real, n, o); }
static int v_sleep(sqlite3_vfs *v, int us) { return real->xSleep(real, us); }
static int v_time(sqlite3_vfs *v, double *t) { return real->xCurrentTime(real, t); }
static int v_lasterr(sqlite3_vfs *v, int n, char *m) { return real->xGetLastError ? real->xGetLastError(real, n, m) : 0; }
static int v_time64(sqlite3_vfs *v, sqlite3_int64 *t) { return real->xCurrentTimeInt64(real, t); }

void faultvfs_reset(void) { memset(&faultvfs, 0, sizeof faultvfs); }

int faultvfs_register(void) {
    real = sqlite3_vfs_find(NULL);
    if (!real) return SQLITE_ERROR;
    vfs = (sqlite3_vfs){
        .iVersion = 2, .szOsFile = (int)sizeof(ffile), .mxPathname = real->mxPathname, .zName = "faultvfs",
        .xOpen = v_open, .xDelete = v_delete, .xAccess = v_access, .xFullPathname = v_full, .xDlOpen = v_dlopen,
        .xDlError = v_dlerror, .xDlSym = v_dlsym, .xDlClose = v_dlclose, .xRandomness = v_random, .xSleep = v_sleep,
        .xCurrentTime = v_time, .xGetLastError = v_lasterr, .xCurrentTimeInt64 = v_time64,
    };
    return sqlite3_vfs_register(&vfs, 1);
}
