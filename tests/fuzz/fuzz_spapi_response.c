/* fuzz_spapi_response.c: SP-API and LWA response handling, without network. The input
 * is an HTTP response as it comes off the wire:
 *
 *     HTTP/1.1 400 Bad Request\r\n
 *     x-amzn-RequestId: abc\r\n
 *     \r\n
 *     {"errors":[{"code":"InvalidInput","message":"..."}]}
 *
 * Header lines go through sp_header_line (as libcurl's header callback does) and the
 * rate limit through sp_rate_limit_parse; the status and body through
 * sp_response_action (the flag combinations sp_call uses) and sp_lwa_token_response. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "spapi/spapi_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data, *end = p + size;
    char request_id[128] = "", rate_limit[32] = "", what[SB_ERRLEN], token[64];
    long status = 0;
    /* header block: lines up to an empty one */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        if (len > 5 && !strncmp(p, "HTTP/", 5) && !status) {
            char line[64];
            snprintf(line, sizeof line, "%.*s", (int)(len < 63 ? len : 63), p);
            const char *sp = strchr(line, ' ');
            if (sp) status = strtol(sp + 1, NULL, 10);
        }
        sp_header_line(p, len, request_id, sizeof request_id, rate_limit, sizeof rate_limit);
        p += len;
        if (len <= 2 && (p[-1] == '\n' || p[-1] == '\r') && (len == 1 || p[-2] == '\r')) break;
    }
    if (strlen(request_id) >= sizeof request_id || strlen(rate_limit) >= sizeof rate_limit) abort();
    double rate = 0;
    if (sp_rate_limit_parse(rate_limit, &rate) && !(rate > 0 && rate <= 10000)) abort();
    sb_buf body;
    sb_buf_init(&body, (size_t)1 << 20);
    if (p < end && sb_buf_append(&body, p, (size_t)(end - p))) { sb_buf_free(&body); return 0; }
    /* (sp, want_json, refreshed) as sp_call passes them: an SP-API call before and after
     * its token refresh, and a plain download */
    static const int flags[3][3] = {{1, 1, 0}, {1, 1, 1}, {0, 0, 0}};
    for (int f = 0; f < 3; f++) {
        int code = 0;
        int a = sp_response_action(status, flags[f][0], flags[f][1], flags[f][2], &body, what, sizeof what, &code);
        if (a < SP_DONE || a > SP_FAIL || (a == SP_FAIL) != (code != 0) || strlen(what) >= sizeof what) abort();
    }
    int64_t ttl_ms = 0;
    token[0] = '\0';
    int a = sp_lwa_token_response(status, &body, token, sizeof token, &ttl_ms, what, sizeof what);
    if (a == SP_DONE && !token[0]) abort();
    sb_buf_free(&body);
    return 0;
}
