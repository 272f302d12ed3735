/* fuzz_settings.c: every setting's validation. The input is "name\nvalue": name picks
 * the setting (an unknown name picks one by a hash of it, so every type is reached),
 * value is validated (sb_settings_validate: its canonical text must validate to itself),
 * stored (sb_settings_set, read back equal), and a list setting's canonical JSON is
 * decoded back (sb_settings_list). In-memory database with
 * the example master data, put back after every input that changed it. */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "settings/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int64_t integ;
    sb_store *s = sb_fuzz_db(&integ);
    char err[SB_ERRLEN], *canon = NULL;
    char *in = sb_fuzz_cstr(data, size);
    char *value = strchr(in, '\n');
    if (value) *value++ = '\0';
    else value = in + strlen(in);
    const sb_setting_def *d = sb_settings_find(in);
    if (!d) {
        int n;
        const sb_setting_def *defs = sb_settings_defs(&n);
        unsigned h = 0;
        for (const char *p = in; *p; p++) h = h * 31 + (unsigned char)*p;
        d = &defs[h % (unsigned)n];
    }
    if (sb_settings_validate(s, integ, d, value, &canon, err) == 0) {
        char *again = NULL;                /* the canonical text is a fixed point */
        if (sb_settings_validate(s, integ, d, canon, &again, err) || strcmp(again, canon)) abort();
        free(again);
        if (d->type == SB_ST_BRANCH_LIST || d->type == SB_ST_ENUM_LIST || d->type == SB_ST_STRING_LIST ||
            d->type == SB_ST_MARKETPLACES) {
            char **list = sb_settings_list(canon);
            if (!list) abort();            /* a canonical list always decodes */
            sb_settings_list_free(list);
        }
        if (sb_settings_set(s, integ, d->name, value, err) == 0) {
            char *back = NULL;
            int is_set = 0;
            if (sb_settings_get(s, integ, d->name, &back, &is_set, err) == 0 && strcmp(back, canon)) abort();
            free(back);
            sb_fuzz_db_reset();
        }
    }
    free(canon);
    free(in);
    return 0;
}
