/* jobs.h: what the runtime keeps about its jobs, in sync_state: the integrations it
 * runs, each (integration, job)'s state for people (idle, running since T, waiting for
 * Amazon until T and why), its next due time and empty-check streak, and the look-ups
 * that tell the runtime a job is due without running it (the earliest confirmation the
 * outbox holds, whether another connection changed the database). The SQL for these
 * lives here, so the runtime itself holds none. */
#ifndef SB_STORE_JOBS_H
#define SB_STORE_JOBS_H
#include <stdint.h>
#include "store/store.h"

#define SB_JOB_NAME_MAX 16

typedef struct sb_store_integ {
    int64_t id;
    char name[128];
} sb_store_integ;

/* Every integration, by id. *out is malloc'd (free it); *n its count. */
int sb_store_integrations(sb_store *s, sb_store_integ **out, int *n, char *err);

/* What a change of the settings the Amazon client and the schedule are made from
 * (api.*, integration.*, the jobs' on/off switches and start time, the notifications' queue) or of the credentials
 * changes (malloc'd text in *out): the runtime compares it to know when to re-read them
 * and rebuild the integration's client. The watermarks the jobs themselves write are
 * not in it, so a job's own progress keeps the client and its access token. */
int sb_store_integration_fingerprint(sb_store *s, int64_t integ, char **out, char *err);

/* A job's state as the runtime last left it. Times are epoch seconds; 0 = none. */
typedef struct sb_store_job {
    const char *state;          /* "idle", "running", "waiting" */
    int64_t since;              /* when it entered that state */
    int64_t next_due;           /* the next run; 0 = not scheduled */
    int empty_streak;           /* orders: consecutive checks that brought nothing */
    int64_t waiting_until;      /* waiting: when Amazon is expected to be ready */
    const char *waiting_why;    /* waiting: why, in a person's words */
} sb_store_job;

int sb_store_job_save(sb_store *s, int64_t integ, const char *job, const sb_store_job *j, char *err);

/* The earliest time (epoch s) a pending shipment confirmation of integ is due: now for a
 * row with no next attempt, its next attempt after a failure, the end of its claim while
 * a sender holds it (a crashed sender's claim ends within minutes); 0 when none is
 * pending. */
int sb_store_confirmation_due(sb_store *s, int64_t integ, int64_t now, int64_t *due, char *err);

/* Changes when another connection commits (PRAGMA data_version): -1 on failure. */
int64_t sb_store_data_version(sb_store *s);

/* One row of `sellerbridge status`: a job as sync_state has it. Strings are "" when
 * the column is empty. */
typedef struct sb_store_job_status {
    char integration[128];
    char job[SB_JOB_NAME_MAX];
    char state[16], since[32], next_due[32], waiting_until[32];
    char waiting_why[256];
    char last_run[32], last_success[32];
    char last_error[512];
    int64_t clock_skew_ms;      /* Amazon's clock minus this machine's (orders row) */
    int has_skew;
} sb_store_job_status;

/* Every job row, by integration then job name; integ 0 = every integration. */
int sb_store_jobs_status(sb_store *s, int64_t integ, sb_store_job_status **out, int *n, char *err);

#endif
