/* http.h: the tests' one HTTP client, over libcurl: a request with its method, headers,
 * optional body and a time-out, the body gathered into an sb_buf. The simulator's raw
 * requests (sim_http.h), the web API's tests and the web benchmark build their URL and
 * headers and send them here. */
#ifndef SB_TEST_HTTP_H
#define SB_TEST_HTTP_H
#include <curl/curl.h>
#include "json/json.h"

static inline size_t t_http_sink(char *p, size_t sz, size_t n, void *ud) {
    if (ud) sb_buf_append(ud, p, sz * n);
    return sz * n;
}

/* Sends method url with headers (may be NULL) and body (NULL: none) on handle c (NULL: a
 * handle of its own; a kept handle reuses its connection); out (may be NULL) gets the body,
 * "" when none. The HTTP status, or 0 when the transport failed (a drop, a time-out). */
static inline long t_http(CURL *c, const char *method, const char *url, struct curl_slist *headers,
                          const char *body, long timeout_ms, sb_buf *out) {
    CURL *own = c ? NULL : curl_easy_init();
    CURL *h = c ? c : own;
    long st = 0;
    if (out) sb_buf_reset(out);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    if (!body) curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);   /* a kept handle's last POST undone */
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, t_http_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    if (own) curl_easy_cleanup(own);
    else curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);  /* the caller frees its headers */
    if (out && !out->data) sb_buf_append(out, "", 0);
    return st;
}
#endif
