/* sim_http.h: raw HTTP requests to the in-process simulator, for the tests that speak to
 * it as Amazon's clients do (not through the engine's client): one request with an
 * access token, and an access token from its LWA endpoint. They go out through the tests'
 * one client (http.h). */
#ifndef SB_TEST_SIM_HTTP_H
#define SB_TEST_SIM_HTTP_H
#include <stdio.h>
#include "http.h"
#include "sim/sim.h"

/* One request (token: the x-amz-access-token, or NULL); the HTTP status, or 0 when the
 * transport failed (a drop, a time-out). The body is in out ("" when none). */
static inline long t_sim_req(sb_sim *sim, const char *method, const char *path, const char *token, const char *body,
                             long timeout_ms, sb_buf *out) {
    char url[4096], hdr[256];
    snprintf(url, sizeof url, "%s%s", sb_sim_url(sim), path);
    struct curl_slist *hl = NULL;
    if (token) { snprintf(hdr, sizeof hdr, "x-amz-access-token: %s", token); hl = curl_slist_append(hl, hdr); }
    hl = curl_slist_append(hl, "Content-Type: application/json");
    long st = t_http(NULL, method, url, hl, body, timeout_ms, out);
    curl_slist_free_all(hl);
    return st;
}

/* The access token the simulator's LWA endpoint grants for form (a grant as LWA takes it,
 * already URL-encoded); "" when the grant fails. */
static inline void t_sim_grant(sb_sim *sim, const char *form, char *tok, size_t n) {
    sb_buf b;
    sb_buf_init(&b, 1 << 20);
    char url[128], err[SB_ERRLEN];
    snprintf(url, sizeof url, "%s/auth/o2/token", sb_sim_url(sim));
    tok[0] = '\0';
    sb_json *j = NULL;
    if (t_http(NULL, "POST", url, NULL, form, 30000, &b) == 200 && !sb_json_parse(b.data, b.len, &j, err))
        sb_json_strcpy(j, SB_JSON_ROOT, "access_token", tok, n);
    sb_json_free(j);
    sb_buf_free(&b);
}

/* An access token for the simulator's demo credentials (the refresh-token grant). */
static inline void t_sim_token(sb_sim *sim, char *tok, size_t n) {
    char form[1024];
    char *rt = curl_easy_escape(NULL, SB_SIM_REFRESH_TOKEN, 0);
    snprintf(form, sizeof form, "grant_type=refresh_token&refresh_token=%s&client_id=%s&client_secret=%s", rt,
             SB_SIM_CLIENT_ID, SB_SIM_CLIENT_SECRET);
    curl_free(rt);
    t_sim_grant(sim, form, tok, n);
}

#endif
