/* log.c: the logger behind log.h. Lines look like
 *   2026-11-27T11:03:07Z INFO orders synced integration=main fetched=12 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "core/log.h"
#include "core/scrub.h"
#include "core/util.h"

static int log_level = SB_LOG_INFO;
static const char *level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void sb_log_set_level(int level) { log_level = level; }

int sb_log_level_from_name(const char *name) {
    if (!strcasecmp(name, "off")) return SB_LOG_OFF;
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(name, level_names[i])) return i;
    return -1;
}

void sb_log(int level, const char *fmt, ...) {
    if (level < log_level || level >= SB_LOG_OFF) return;
    char line[2048], ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* no secret in any encoding, and text from outside cannot start a line of its own */
    sb_scrub_all(line);
    char safe[sizeof line * 2];
    sb_escape_controls(line, strlen(line), safe, sizeof safe);
    fprintf(stderr, "%s %s %s\n", ts, level_names[level], safe);
}

char *sb_mask(const char *secret, char *out, size_t outlen) {
    size_t n = secret ? strlen(secret) : 0;
    if (n == 0) snprintf(out, outlen, "(not set)");
    else if (n <= 8) snprintf(out, outlen, "****(%zu chars)", n);
    else snprintf(out, outlen, "%.4s****(%zu chars)", secret, n);
    return out;
}
