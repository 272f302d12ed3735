/* util.h: small helpers shared by every subsystem: error messages, a bounded growable
 * buffer (curl's dynbuf idea: every buffer has a maximum), and time formatting. */
#ifndef SB_CORE_UTIL_H
#define SB_CORE_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "sellerbridge.h"

/* Formats into err (SB_ERRLEN bytes, may be NULL) and returns code. */
int sb_seterr(char *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

typedef struct sb_buf {
    char *data;     /* always NUL-terminated when len > 0 */
    size_t len, cap, max;
} sb_buf;

void sb_buf_init(sb_buf *b, size_t max);
int sb_buf_append(sb_buf *b, const void *p, size_t n);          /* SB_ENOMEM past max */
int sb_buf_printf(sb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_buf_reset(sb_buf *b);
void sb_buf_free(sb_buf *b);

/* ISO-8601 UTC "2026-11-27T11:03:07Z" <-> epoch seconds. Parse accepts an optional
 * fraction and a Z or +hh:mm offset, or a plain date (midnight UTC). -1 if invalid. */
int64_t sb_time_parse(const char *iso);
char *sb_time_format(int64_t t, char *out, size_t outlen);     /* needs 21 bytes */
/* Epoch milliseconds of an ISO 8601 time (fraction kept to the millisecond), or -1. */
int64_t sb_time_parse_ms(const char *iso);
/* "2026-11-27T11:53:08.500Z", or without the fraction when it is .000; needs 25 bytes */
char *sb_time_format_ms(int64_t ms, char *out, size_t outlen);

char *sb_strdup(const char *s);   /* NULL-safe */
/* Copies n bytes of s into out (outlen > 0, always terminated, cut to fit) with control
 * characters written as \n, \r, \t or \xNN (C1 controls in UTF-8 as \u0080..\u009f), so text from outside (a rule's error, a
 * buyer's name) cannot start a new log line or drive a terminal. Returns out. */
char *sb_escape_controls(const char *s, size_t n, char *out, size_t outlen);
int sb_file_read(const char *path, char **out, size_t *len, size_t max, char *err);

#endif
