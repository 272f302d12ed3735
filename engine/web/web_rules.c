/* web_rules.c: GET /api/v1/rules, answered from a pack check made off the request
 * threads.
 *
 * The one idea: a request never loads a pack. It describes what it would check (the
 * rules.pack setting, the four limits, and each .lua file's mtime and size: a key), and
 * answers at once with the kept result. When that result's key is not the current one it
 * starts the checker thread (one at a time), which loads the pack with the same limits
 * as the engine (sb_rules_load_ex, so a hostile top level stops at rules.load_ms) and
 * keeps the result under w->mu; the answer says "checking": true until a request sees a
 * result with its own key. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/sha.h>
#include "core/clock.h"
#include "core/log.h"
#include "rules/rules.h"
#include "settings/settings.h"
#include "store/rulepacks.h"
#include "web/web_int.h"

#define MAX_KEY_FILES 64            /* .lua files described per pack; a pack has six hooks */

typedef struct check_arg {
    sb_web *w;
    sb_rules_limits lim;
    sb_web_check c;                 /* key and pack set; the rest is filled by the thread */
} check_arg;

/* The key of (pack, limits, files) as SHA-256 hex into out[65]. The files are the pack
 * folder's *.lua in readdir order, at most MAX_KEY_FILES; a folder that cannot be read
 * is described as such, so fixing it changes the key. */
static void pack_key(const char *pack, const sb_rules_limits *lim, char out[65]) {
    sb_buf b;
    sb_buf_init(&b, 64 * 1024);
    sb_buf_printf(&b, "pack=%s\nlimits=%ld,%zu,%ld,%ld\n", pack, lim->instructions, lim->memory_bytes, lim->time_ms,
                  lim->load_ms);
    if (pack && *pack && strcmp(pack, "default")) {
        struct stat st;
        DIR *d = opendir(pack);
        if (!d) sb_buf_printf(&b, "unreadable\n");
        if (d && stat(pack, &st) == 0)
            sb_buf_printf(&b, "dir %lld.%09ld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        struct dirent *de;
        int n = 0;
        while (d && (de = readdir(d)) && n < MAX_KEY_FILES) {
            size_t len = strlen(de->d_name);
            if (len < 5 || strcmp(de->d_name + len - 4, ".lua")) continue;
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", pack, de->d_name);
            if (stat(path, &st) == 0)
                sb_buf_printf(&b, "%s %lld.%09ld %lld %llu\n", de->d_name, (long long)st.st_mtim.tv_sec,
                              st.st_mtim.tv_nsec, (long long)st.st_size, (unsigned long long)st.st_ino);
            else
                sb_buf_printf(&b, "%s missing\n", de->d_name);
            n++;
        }
        if (d) closedir(d);
    }
    unsigned char h[32];
    SHA256((const unsigned char *)(b.data ? b.data : ""), b.len, h);
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", h[i]);
    sb_buf_free(&b);
}

static void *check_main(void *p) {
    check_arg *a = p;
    sb_web *w = a->w;
    sb_web_check *c = &a->c;
    sb_rules *r = sb_rules_load_ex(c->pack, &a->lim, c->report, sizeof c->report);
    c->ok = r != NULL;
    if (r) {
        snprintf(c->name, sizeof c->name, "%s", sb_rules_name(r));
        snprintf(c->hash, sizeof c->hash, "%s", sb_rules_hash(r));
        c->report[0] = '\0';
    }
    sb_rules_free(r);
    sb_time_format(sb_now(), c->at, sizeof c->at);
    if (!c->ok) sb_warn("web: rule pack '%s' does not load (checked for the dashboard)", c->pack);
    pthread_mutex_lock(&w->mu);
    w->check = *c;
    w->check_have = 1;
    w->check_running = 0;
    pthread_mutex_unlock(&w->mu);
    free(a);
    return NULL;
}

/* Under w->mu: starts a check of pack with key, unless one runs. Returns 0 or -1. */
static int start_check(sb_web *w, const char *pack, const sb_rules_limits *lim, const char *key) {
    if (w->check_running) return 0;                 /* its result is older; the next request asks again */
    check_arg *a = calloc(1, sizeof *a);
    if (!a) return -1;
    a->w = w;
    a->lim = *lim;
    snprintf(a->c.key, sizeof a->c.key, "%s", key);
    snprintf(a->c.pack, sizeof a->c.pack, "%s", pack);
    if (w->checker_started) pthread_join(w->checker, NULL);    /* the last check, finished */
    w->checker_started = 0;
    if (pthread_create(&w->checker, NULL, check_main, a) != 0) { free(a); return -1; }
    w->checker_started = 1;
    w->check_running = 1;
    return 0;
}

void sb_web_rules_stop(sb_web *w) {
    pthread_mutex_lock(&w->mu);
    int started = w->checker_started;
    w->checker_started = 0;
    pthread_mutex_unlock(&w->mu);
    if (started) pthread_join(w->checker, NULL);    /* a load ends within rules.load_ms */
}

void sb_web_rules_get(sb_web_req *rq, sb_web_resp *rs) {
    sb_web *w = rq->w;
    sb_settings st;
    char err[SB_ERRLEN], key[65];
    if (sb_settings_load(rq->s, w->integ, &st, err)) { sb_web_error(rs, 500, "%s", err); return; }
    const char *pack = sb_settings_str(&st, "rules.pack");
    sb_rules_limits lim = {.instructions = sb_settings_int(&st, "rules.instructions"),
                           .memory_bytes = (size_t)sb_settings_int(&st, "rules.memory_mb") << 20,
                           .time_ms = sb_settings_int(&st, "rules.time_ms"),
                           .load_ms = sb_settings_int(&st, "rules.load_ms")};
    pack_key(pack, &lim, key);
    sb_store_pack_count packs[SB_PACK_COUNTS_MAX];
    int npacks;
    if (sb_store_pack_counts(rq->s, w->integ, packs, &npacks, err)) {
        sb_settings_free(&st);
        sb_web_error(rs, 500, "%s", err);
        return;
    }
    sb_web_check *c = malloc(sizeof *c);
    if (!c) { sb_settings_free(&st); sb_web_error(rs, 500, "out of memory"); return; }
    pthread_mutex_lock(&w->mu);
    int have = w->check_have, fresh = have && !strcmp(w->check.key, key);
    int started = fresh ? 0 : start_check(w, pack, &lim, key);
    if (have) *c = w->check;
    pthread_mutex_unlock(&w->mu);
    if (started) {
        free(c);
        sb_settings_free(&st);
        sb_web_error(rs, 500, "cannot start the rule pack check");
        return;
    }

    sb_jw jw;
    sb_web_begin_ok(rs, &jw);
    sb_jw_obj(&jw);
    sb_jw_kstr(&jw, "pack", pack);
    sb_jw_kbool(&jw, "checking", !fresh);
    /* the last result, which may be of an earlier pack or edit while checking */
    sb_jw_kstr(&jw, "checked_pack", have ? c->pack : NULL);
    sb_jw_kstr(&jw, "checked_at", have ? c->at : NULL);
    sb_jw_key(&jw, "ok");
    if (have) sb_jw_bool(&jw, c->ok); else sb_jw_null(&jw);
    sb_jw_kstr(&jw, "name", have && c->ok ? c->name : NULL);
    sb_jw_kstr(&jw, "hash", have && c->ok ? c->hash : NULL);
    sb_jw_key(&jw, "errors");
    sb_jw_arr(&jw);
    if (have && !c->ok) {
        for (char *p = c->report; *p;) {
            char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            if (n) sb_jw_strn(&jw, p, n);
            p += n + (nl ? 1 : 0);
        }
    }
    sb_jw_end_arr(&jw);
    free(c);
    /* the pack versions that decided the stored orders */
    sb_jw_key(&jw, "orders_by_pack");
    sb_jw_obj(&jw);
    for (int i = 0; i < npacks; i++) sb_jw_kint(&jw, packs[i].hash, packs[i].orders);
    sb_jw_end_obj(&jw);
    sb_jw_end_obj(&jw);
    sb_settings_free(&st);
}
