/* sim_http.h: raw HTTP requests to the in-process simulator, for the tests that speak to
 * it as Amazon's clients do (not through the engine's client): one request with an
 * access token, and an access token from its LWA endpoint. */
#ifndef SB_TEST_SIM_HTTP_H
#define SB_TEST_SIM_HTTP_H
#include <curl/curl.h>
#include <stdio.h>
#include "json/json.h"
#include "sim/sim.h"

static inline size_t t_sim_sink(char *p, size_t sz, size_t n, void *ud) {
    sb_buf_append(ud, p, sz * n);
    return sz * n;
}

/* One request (token: the x-amz-access-token, or NULL); the HTTP status, or 0 when the
 * transport failed (a drop, a time-out). The body is in out ("" when none). */
static inline long t_sim_req(sb_sim *sim, const char *method, const char *path, const char *token, const char *body,
                             long timeout_ms, sb_buf *out) {
    char url[4096], hdr[256];
    snprintf(url, sizeof url, "%s%s", sb_sim_url(sim), path);
    CURL *h = curl_easy_init();
    struct curl_slist *hl = NULL;
    if (token) { snprintf(hdr, sizeof hdr, "x-amz-access-token: %s", token); hl = curl_slist_append(hl, hdr); }
    hl = curl_slist_append(hl, "Content-Type: application/json");
    sb_buf_reset(out);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    if (body) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, t_sim_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    long st = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    if (!out->data) sb_buf_append(out, "", 0);
    return st;
}

/* An access token for the simulator's demo credentials (a form, as LWA takes it); ""
 * when the grant fails. */
static inline void t_sim_token(sb_sim *sim, char *tok, size_t n) {
    sb_buf b;
    sb_buf_init(&b, 1 << 20);
    char url[128], form[1024];
    snprintf(url, sizeof url, "%s/auth/o2/token", sb_sim_url(sim));
    CURL *h = curl_easy_init();
    char *rt = curl_easy_escape(h, SB_SIM_REFRESH_TOKEN, 0);
    snprintf(form, sizeof form, "grant_type=refresh_token&refresh_token=%s&client_id=%s&client_secret=%s", rt,
             SB_SIM_CLIENT_ID, SB_SIM_CLIENT_SECRET);
    curl_free(rt);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, t_sim_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    tok[0] = '\0';
    if (curl_easy_perform(h) == CURLE_OK && b.data) {
        sb_json *j = NULL;
        char err[SB_ERRLEN];
        if (!sb_json_parse(b.data, b.len, &j, err)) sb_json_strcpy(j, SB_JSON_ROOT, "access_token", tok, n);
        sb_json_free(j);
    }
    curl_easy_cleanup(h);
    sb_buf_free(&b);
}

#endif
