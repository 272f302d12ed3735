/* faultvfs.h: a test SQLite VFS that wraps the default one (SQLite's own test VFS idea)
 * and fails on demand: the Nth write (of all, of the write-ahead logs, or of the database
 * files), the Nth sync, or every write once a byte budget is
 * spent (disk full). Registered as the default VFS, so every connection the engine
 * opens goes through it; nothing in the engine changes. */
#ifndef SB_TEST_FAULTVFS_H
#define SB_TEST_FAULTVFS_H
#include <stdint.h>

typedef struct faultvfs_state {
    long writes, syncs;           /* counted since the last faultvfs_reset */
    long wal_writes, db_writes;   /* the writes, to write-ahead logs and to the rest */
    int64_t bytes;                /* bytes written since the last reset */
    long fail_write;              /* fail this write (1-based; 0 = never) */
    long fail_wal_write;          /* fail this write to a write-ahead log: a commit's own */
    long fail_db_write;           /* fail this write to a database file: a checkpoint's */
    long fail_sync;               /* fail this sync (1-based; 0 = never) */
    int64_t full_after;           /* disk full once this many bytes were written (0 = never) */
    long injected;                /* faults returned so far */
} faultvfs_state;

extern faultvfs_state faultvfs;
int faultvfs_register(void);      /* as the default VFS; SQLITE_OK */
void faultvfs_reset(void);        /* counters to zero, no fault armed */

#endif
