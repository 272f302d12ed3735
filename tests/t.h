/* t.h: the smallest test harness that reads well: T_CHECK records a failure with file
 * and line and goes on; t_done() prints "N passed, N failed" and gives the exit code. */
#ifndef SB_TEST_T_H
#define SB_TEST_T_H
#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define T_CHECK(cond) do { if (cond) t_pass++; else { t_fail++; \
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define T_STREQ(a, b) do { const char *t_a = (a), *t_b = (b); \
    if (t_a && t_b && !strcmp(t_a, t_b)) t_pass++; else { t_fail++; \
    fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\" (%s)\n", __FILE__, __LINE__, \
            t_b ? t_b : "(null)", t_a ? t_a : "(null)", #a); } } while (0)
#define T_CONTAINS(hay, needle) do { const char *t_h = (hay), *t_n = (needle); \
    if (t_h && strstr(t_h, t_n)) t_pass++; else { t_fail++; \
    fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
            t_h ? t_h : "(null)", t_n); } } while (0)
#define T_EQ(a, b) do { long long t_x = (long long)(a), t_y = (long long)(b); \
    if (t_x == t_y) t_pass++; else { t_fail++; \
    fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, t_x, t_y); } } while (0)

static inline int t_done(void) {
    printf("%d passed, %d failed\n", t_pass, t_fail);
    return t_fail ? 1 : 0;
}

#endif
