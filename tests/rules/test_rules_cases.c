/* test_rules_cases.c: runs the table-driven cases of the default pack (tests/rules/cases)
 * and of every example pack (examples/rules/<pack>/cases) through the library, so the
 * cases are checked even where the CLI binary is not built. Each case is one check. */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "t.h"
#include "rules/rules.h"
#include "rules/rules_cases.h"
#include "sellerbridge.h"

static void run_pack(const char *pack, const char *cases) {
    char err[SB_ERRLEN] = "";
    sb_rules *r = sb_rules_load(pack, NULL, err);
    T_CHECK(r != NULL);
    if (!r) { fprintf(stderr, "%s: %s\n", pack, err); return; }
    int pass = 0, fail = 0;
    int rc = sb_rules_run_cases(r, cases, stderr, &pass, &fail, err);
    T_EQ(rc, 0);
    T_CHECK(pass > 0);
    T_EQ(fail, 0);
    t_pass += pass > 0 ? pass - 1 : 0;
    printf("%s: %d cases passed, %d failed\n", pack, pass, fail);
    sb_rules_free(r);
}

int main(void) {
    const char *src = getenv("SB_SOURCE_DIR");
    if (!src) src = SB_SOURCE_DIR;
    char cases[4096], packs[4096];
    snprintf(cases, sizeof cases, "%s/tests/rules/cases", src);
    run_pack("default", cases);
    snprintf(packs, sizeof packs, "%s/examples/rules", src);
    DIR *d = opendir(packs);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char pack[4096 + 256], pc[4096 + 300];
        snprintf(pack, sizeof pack, "%s/%s", packs, e->d_name);
        snprintf(pc, sizeof pc, "%s/cases", pack);
        struct stat st;
        if (stat(pc, &st) || !S_ISDIR(st.st_mode)) continue;
        run_pack(pack, pc);
        n++;
    }
    if (d) closedir(d);
    printf("%d example packs\n", n);
    return t_done();
}
