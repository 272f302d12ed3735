/* test_sqs_check.c: sb_sqs_check_for_amazon as data (check_cases.txt): each line is a
 * queue's attributes, the number of blocking problems and what the report must (and
 * must not) say. The attributes go through sb_sqs_attributes_parse, as a
 * GetQueueAttributes answer does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aws/sqs.h"
#include "t.h"

static void check_case(int line, char *attrs, int blocking, char *expect) {
    sb_sqs_attributes a;
    char err[SB_ERRLEN], report[4096], doc[16384 + 32];
    snprintf(doc, sizeof doc, "{\"Attributes\":%s}", attrs);
    int rc = sb_sqs_attributes_parse(doc, strlen(doc), &a, err);
    if (rc) { fprintf(stderr, "check_cases.txt:%d: attributes do not parse: %s\n", line, err); t_fail++; return; }
    int got = sb_sqs_check_for_amazon(&a, report, sizeof report);
    if (got != blocking) fprintf(stderr, "check_cases.txt:%d: report:\n%s", line, report);
    T_EQ(got, blocking);
    if (strcmp(expect, "-")) {
        char *save = NULL;
        for (char *p = strtok_r(expect, "|", &save); p; p = strtok_r(NULL, "|", &save)) {
            while (*p == ' ') p++;
            size_t l = strlen(p);
            while (l && p[l - 1] == ' ') p[--l] = '\0';
            int neg = p[0] == '!';
            int has = strstr(report, p + neg) != NULL;
            if (has == neg) {
                fprintf(stderr, "check_cases.txt:%d: report %s \"%s\":\n%s", line, neg ? "has" : "lacks", p + neg, report);
                t_fail++;
            } else t_pass++;
        }
    }
    sb_sqs_attributes_free(&a);
}

int main(void) {
    const char *path = getenv("SB_CHECK_CASES");
    FILE *f = path ? fopen(path, "r") : NULL;
    T_CHECK(f != NULL);
    if (!f) return t_done();
    char buf[16384];
    int line = 0, cases = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        buf[strcspn(buf, "\r\n")] = '\0';
        if (!buf[0] || buf[0] == '#') continue;
        char *t1 = strchr(buf, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2) { fprintf(stderr, "check_cases.txt:%d: needs three tab-separated fields\n", line); t_fail++; continue; }
        *t1 = *t2 = '\0';
        check_case(line, buf, atoi(t1 + 1), t2 + 1);
        cases++;
    }
    fclose(f);
    T_CHECK(cases >= 14);

    /* a report buffer too small is cut, terminated, and the count is still right */
    sb_sqs_attributes a;
    char err[SB_ERRLEN], small[40];
    const char *doc = "{\"Attributes\":{\"FifoQueue\":\"true\"}}";
    T_EQ(sb_sqs_attributes_parse(doc, strlen(doc), &a, err), 0);
    T_EQ(a.fifo, 1);
    T_EQ(a.retention_s, -1);
    T_EQ(sb_sqs_check_for_amazon(&a, small, sizeof small), 2);
    T_CHECK(strlen(small) < sizeof small);
    sb_sqs_attributes_free(&a);
    /* Attributes that is not an object is an error naming it */
    doc = "{\"Attributes\":[1]}";
    T_CHECK(sb_sqs_attributes_parse(doc, strlen(doc), &a, err) != 0);
    T_CONTAINS(err, "Attributes");
    return t_done();
}
