/* log.h: one-line structured logging to stderr: time, level, message, key=value fields.
 * Secrets never reach a log line: callers pass secret values through sb_mask(). */
#ifndef SB_CORE_LOG_H
#define SB_CORE_LOG_H
#include <stdarg.h>

enum sb_log_level { SB_LOG_DEBUG, SB_LOG_INFO, SB_LOG_WARN, SB_LOG_ERROR, SB_LOG_OFF };

void sb_log_set_level(int level);
int sb_log_level_from_name(const char *name);   /* -1 if unknown */
/* fmt is printf-style; by convention "message key=value key=value". */
void sb_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define sb_debug(...) sb_log(SB_LOG_DEBUG, __VA_ARGS__)
#define sb_info(...)  sb_log(SB_LOG_INFO, __VA_ARGS__)
#define sb_warn(...)  sb_log(SB_LOG_WARN, __VA_ARGS__)
#define sb_error(...) sb_log(SB_LOG_ERROR, __VA_ARGS__)

/* Writes a masked form of a secret into out ("abcd…(40 chars)"): the first 4
 * characters at most and the length, never the rest. Returns out. */
char *sb_mask(const char *secret, char *out, size_t outlen);

#endif
