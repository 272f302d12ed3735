/* test_sigv4.c: the Signature V4 that sb_sqs's requests carry.
 *
 * 1. AWS's published test-suite vectors (sigv4_cases.txt): curl signs each request with
 *    sb_sqs's own options (sb_sqs_sign_setup); the date comes from an X-Amz-Date header
 *    we give (curl 7.88 takes it, see lib/http_aws_sigv4.c make_headers/find_date_hdr);
 *    the host is example.amazonaws.com reached on 127.0.0.1 (CURLOPT_CONNECT_TO); the
 *    loopback server keeps the Authorization header sent, compared exactly.
 * 2. The same vectors recomputed here with OpenSSL's HMAC-SHA256 (the published
 *    algorithm, written out below), so the independent computation is itself checked.
 * 3. SQS's JSON protocol: no published vector was found, so real sb_sqs requests
 *    (SendMessage, ReceiveMessage, with and without a session token) are captured and
 *    their signatures recomputed independently from the request as received. */
#include <curl/curl.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "aws/sqs.h"
#include "aws/sqs_int.h"
#include "capture.h"
#include "t.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static void hex(const unsigned char *d, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static void sha_hex(const char *s, size_t n, char *out) {
    unsigned char d[32];
    SHA256((const unsigned char *)s, n, d);
    hex(d, 32, out);
}

static void hmac(const unsigned char *k, size_t kn, const char *m, unsigned char out[32]) {
    unsigned int l = 32;
    HMAC(EVP_sha256(), k, (int)kn, (const unsigned char *)m, strlen(m), out, &l);
}

/* Signature V4 from its parts: canonical headers "name:value\n" each (sorted, lower
 * case, trimmed), the signed header list, the date. Writes the hex signature. */
static void sigv4(const char *method, const char *path, const char *query, const char *canon_headers, const char *signed_h,
                  const char *body, size_t blen, const char *amzdate, const char *region, const char *service,
                  const char *secret, char sig[65]) {
    char ph[65], crh[65], date[9], scope[128], k[128];
    static char creq[65536], sts[1024];
    sha_hex(body, blen, ph);
    snprintf(creq, sizeof creq, "%s\n%s\n%s\n%s\n%s\n%s", method, path, query, canon_headers, signed_h, ph);
    sha_hex(creq, strlen(creq), crh);
    snprintf(date, sizeof date, "%.8s", amzdate);
    snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", date, region, service);
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amzdate, scope, crh);
    unsigned char a[32], b[32];
    snprintf(k, sizeof k, "AWS4%s", secret);
    hmac((unsigned char *)k, strlen(k), date, a);
    hmac(a, 32, region, b);
    hmac(b, 32, service, a);
    hmac(a, 32, "aws4_request", b);
    hmac(b, 32, sts, a);
    hex(a, 32, sig);
}

/* "Signature=<hex>" out of an Authorization header. */
static const char *sig_of(const char *auth) {
    const char *p = strstr(auth, "Signature=");
    return p ? p + 10 : "";
}

/* Canonical headers for the names in signed_h (a;b;c) from the captured request. */
static void canon_from(cap_server *s, const char *signed_h, char *out, size_t n) {
    char names[512], v[4096];
    snprintf(names, sizeof names, "%s", signed_h);
    out[0] = '\0';
    char *save = NULL;
    for (char *nm = strtok_r(names, ";", &save); nm; nm = strtok_r(NULL, ";", &save)) {
        cap_header(s, nm, v, sizeof v);
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%s:%s\n", nm, v);
    }
}

static void vector(cap_server *s, int line, const char *name, const char *path, char *headers, const char *body,
                   const char *want) {
    char url[512], connect[128], auth[1024], sig[65];
    snprintf(url, sizeof url, "http://example.amazonaws.com%s", path);
    snprintf(connect, sizeof connect, "example.amazonaws.com:80:127.0.0.1:%d", s->port);
    struct curl_slist *h = NULL, *ct = curl_slist_append(NULL, connect);
    h = curl_slist_append(h, "X-Amz-Date: 20150830T123600Z");
    char canon[1024] = "", hb[512];
    snprintf(hb, sizeof hb, "%s", headers);
    if (strcmp(hb, "-")) {
        char *save = NULL;
        for (char *p = strtok_r(hb, "|", &save); p; p = strtok_r(NULL, "|", &save)) {
            while (*p == ' ') p++;
            size_t l = strlen(p);
            while (l && p[l - 1] == ' ') p[--l] = '\0';
            h = curl_slist_append(h, p);
        }
    }
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CONNECT_TO, ct);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    const char *b = strcmp(body, "-") ? body : "";
    sb_sqs_sign_setup(c, "us-east-1", "service", AKID, SECRET, b, strlen(b));
    CURLcode cc = curl_easy_perform(c);
    T_EQ(cc, CURLE_OK);
    cap_header(s, "Authorization", auth, sizeof auth);
    if (strcmp(auth, want)) fprintf(stderr, "sigv4_cases.txt:%d: %s\n  sent %s\n  want %s\n", line, name, auth, want);
    T_STREQ(auth, want);
    /* the independent computation gives the published signature too */
    const char *q = strchr(path, '?');
    const char *sh = strstr(want, "SignedHeaders=") + 14;
    char signed_h[256];
    snprintf(signed_h, sizeof signed_h, "%.*s", (int)strcspn(sh, ","), sh);
    canon_from(s, signed_h, canon, sizeof canon);
    char p0[256];
    snprintf(p0, sizeof p0, "%.*s", (int)(q ? (size_t)(q - path) : strlen(path)), path);
    sigv4("POST", p0, q ? q + 1 : "", canon, signed_h, b, strlen(b), "20150830T123600Z", "us-east-1", "service", SECRET, sig);
    T_STREQ(sig, sig_of(want));
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    curl_slist_free_all(ct);
}

/* An sb_sqs request as captured, its signature recomputed from what was received. */
static void sqs_request(cap_server *s, const char *token) {
    char url[128], err[SB_ERRLEN], auth[1024], date[32], canon[4096], sig[65];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/123456789012/spapi-notifications", s->port);
    sb_sqs_config c = {.queue_url = url, .region = "us-west-2", .access_key_id = AKID, .secret_access_key = SECRET,
                       .session_token = token};
    sb_sqs *q = sb_sqs_new(&c, err);
    T_CHECK(q != NULL);
    if (!q) return;
    cap_answer(s, 200, "application/x-amz-json-1.0", "{\"MessageId\":\"5fea7756-0ea4-451a-a703-a558b933e274\"}");
    T_EQ(sb_sqs_send(q, "{\"NotificationType\":\"ORDER_CHANGE\",\"x\":\"caf\xc3\xa9 \\\"q\\\"\"}", NULL, 0, err), 0);
    T_STREQ(s->method, "POST");
    T_STREQ(s->path, "/");   /* the JSON protocol posts to /; QueueUrl in the body */
    T_EQ(cap_header(s, "Authorization", auth, sizeof auth), 0);
    T_EQ(cap_header(s, "X-Amz-Date", date, sizeof date), 0);
    const char *sh = strstr(auth, "SignedHeaders=");
    T_CHECK(sh != NULL);
    if (!sh) { sb_sqs_free(q); return; }
    sh += 14;
    char signed_h[256];
    snprintf(signed_h, sizeof signed_h, "%.*s", (int)strcspn(sh, ","), sh);
    T_STREQ(signed_h, token ? "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
                            : "content-type;host;x-amz-date;x-amz-target");
    char cred[160];
    snprintf(cred, sizeof cred, "Credential=" AKID "/%.8s/us-west-2/sqs/aws4_request", date);
    T_CONTAINS(auth, cred);
    canon_from(s, signed_h, canon, sizeof canon);
    sigv4("POST", "/", "", canon, signed_h, s->body, s->body_len, date, "us-west-2", "sqs", SECRET, sig);
    T_STREQ(sig_of(auth), sig);
    /* a receive too (another target, another body) */
    cap_answer(s, 200, "application/x-amz-json-1.0", "{}");
    sb_sqs_message m[1];
    int n;
    T_EQ(sb_sqs_receive(q, 1, 0, 30, m, &n, err), 0);
    cap_header(s, "Authorization", auth, sizeof auth);
    cap_header(s, "X-Amz-Date", date, sizeof date);
    canon_from(s, signed_h, canon, sizeof canon);
    T_CONTAINS(canon, "x-amz-target:AmazonSQS.ReceiveMessage\n");
    sigv4("POST", "/", "", canon, signed_h, s->body, s->body_len, date, "us-west-2", "sqs", SECRET, sig);
    T_STREQ(sig_of(auth), sig);
    sb_sqs_free(q);
}

int main(void) {
    cap_server s;
    T_EQ(cap_start(&s), 0);
    const char *path = getenv("SB_SIGV4_CASES");
    FILE *f = path ? fopen(path, "r") : NULL;
    T_CHECK(f != NULL);
    char buf[4096];
    int line = 0, cases = 0;
    while (f && fgets(buf, sizeof buf, f)) {
        line++;
        buf[strcspn(buf, "\r\n")] = '\0';
        if (!buf[0] || buf[0] == '#') continue;
        char *fld[5];
        int k = 0;
        for (char *p = buf; k < 5; k++) {
            fld[k] = p;
            char *t = strchr(p, '\t');
            if (!t) { k++; break; }
            *t = '\0';
            p = t + 1;
        }
        if (k != 5) { fprintf(stderr, "sigv4_cases.txt:%d: needs five tab-separated fields\n", line); t_fail++; continue; }
        vector(&s, line, fld[0], fld[1], fld[2], fld[3], fld[4]);
        cases++;
    }
    if (f) fclose(f);
    T_CHECK(cases >= 4);
    sqs_request(&s, NULL);
    sqs_request(&s, "FwoGZXIvYXdzEXAMPLE//token+with/slashes=");
    cap_stop(&s);
    return t_done();
}
