/* util.c: see util.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/scrub.h"
#include "core/util.h"

int sb_seterr(char *err, int code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, SB_ERRLEN, fmt, ap);
        va_end(ap);
        sb_scrub_all(err);
        /* one line, whatever it quotes (an id or a status from Amazon, a CSV cell): the
         * escaping leaves text that is already escaped as it is */
        for (const unsigned char *p = (const unsigned char *)err; *p; p++)
            if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) {
                char tmp[SB_ERRLEN];
                sb_escape_controls(err, strlen(err), tmp, sizeof tmp);
                memcpy(err, tmp, strlen(tmp) + 1);
                break;
            }
    }
    return code;
}

void sb_buf_init(sb_buf *b, size_t max) {
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

int sb_buf_append(sb_buf *b, const void *p, size_t n) {
    if (b->len + n + 1 > b->max) return SB_ENOMEM;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        if (cap > b->max) cap = b->max;
        char *d = realloc(b->data, cap);
        if (!d) return SB_ENOMEM;
        b->data = d;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int sb_buf_printf(sb_buf *b, const char *fmt, ...) {
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return SB_ERR;
    if ((size_t)n < sizeof small) return sb_buf_append(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big) return SB_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = sb_buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

void sb_buf_reset(sb_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void sb_buf_free(sb_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* n decimal digits at p (no sign, no spaces) into *v; 0 or -1. */
static int digits(const char *p, int n, int *v) {
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        *v = *v * 10 + (p[i] - '0');
    }
    return 0;
}

/* The parse behind sb_time_parse and sb_time_parse_ms: *ms gets the fraction's
 * milliseconds (digits beyond the third are dropped, not rounded). */
static int64_t time_parse(const char *s, int *ms) {
    int y, mo, d, h = 0, mi = 0, se = 0;
    *ms = 0;
    if (!s || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d > mdays[mo - 1]) return -1;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return -1;
    const char *p = s + 10;
    int64_t off = 0;
    if (*p == 'T' || *p == ' ') {
        if (digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi)) return -1;
        p += 6;
        if (*p == ':') {
            if (digits(p + 1, 2, &se)) return -1;
            p += 3;
        }
        if (*p == '.') {
            int k = 0;
            for (p++; *p >= '0' && *p <= '9'; p++, k++)
                if (k < 3) *ms = *ms * 10 + (*p - '0');
            for (; k < 3; k++) *ms *= 10;
        }
        if (*p == 'Z') p++;
        else if (*p == '+' || *p == '-') {
            int oh, om;
            if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59) return -1;
            off = (*p == '+' ? 1 : -1) * (oh * 3600 + om * 60);
            p += 6;
        }
        if (h > 23 || mi > 59 || se > 60) return -1;
    }
    if (*p) return -1;
    return days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off;
}

int64_t sb_time_parse(const char *s) {
    int ms;
    return time_parse(s, &ms);
}

int64_t sb_time_parse_ms(const char *s) {
    int ms;
    int64_t t = time_parse(s, &ms);
    return t < 0 ? -1 : t * 1000 + ms;
}

char *sb_time_format_ms(int64_t ms, char *out, size_t outlen) {
    int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int frac = (int)(ms - s * 1000);
    sb_time_format(s, out, outlen);
    size_t n = strlen(out);
    if (frac && n >= 1 && n + 4 < outlen) snprintf(out + n - 1, outlen - (n - 1), ".%03dZ", frac);
    return out;
}

char *sb_time_format(int64_t t, char *out, size_t outlen) {
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

char *sb_strdup(const char *s) { return s ? strdup(s) : NULL; }

int sb_file_read(const char *path, char **out, size_t *len, size_t max, char *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return sb_seterr(err, SB_EIO, "%s: %s", path, strerror(errno));
    sb_buf b;
    sb_buf_init(&b, max);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if ((rc = sb_buf_append(&b, chunk, n)) < 0) {
            rc = sb_seterr(err, SB_EIO, "%s: larger than %zu bytes", path, max);
            break;
        }
    if (!rc && ferror(f)) rc = sb_seterr(err, SB_EIO, "%s: read error", path);
    fclose(f);
    if (rc) { sb_buf_free(&b); return rc; }
    if (!b.data) sb_buf_append(&b, "", 0);
    *out = b.data;
    if (len) *len = b.len;
    return 0;
}

char *sb_escape_controls(const char *s, size_t n, char *out, size_t outlen) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        size_t k = 1;
        if (c == '\n') memcpy(esc, "\\n", k = 2);
        else if (c == '\r') memcpy(esc, "\\r", k = 2);
        else if (c == '\t') memcpy(esc, "\\t", k = 2);
        else if (c < 0x20 || c == 0x7f) k = (size_t)snprintf(esc, sizeof esc, "\\x%02x", c);
        else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f) {
            /* a C1 control in UTF-8 (U+009B is a CSI to some terminals) */
            k = (size_t)snprintf(esc, sizeof esc, "\\u%04x", (unsigned char)s[++i]);
        }
        else esc[0] = (char)c;
        if (o + k >= outlen) break;
        memcpy(out + o, esc, k);
        o += k;
    }
    out[o] = 0;
    return out;
}
