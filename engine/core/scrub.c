/* scrub.c: secrets out of text in every encoding they travel in (see scrub.h). The
 * matcher decodes the text one character at a time against the secret, so mixed
 * encodings ("Atzr%7cIw\u0045B") are found without listing every combination. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "core/scrub.h"
#include "sellerbridge.h"

#define MAX_SECRETS 32
#define TAIL_MIN 8          /* a secret cut off by the end of the text, from this many chars */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int hex2(const char *p) {
    int a = hexval(p[0]), b = a < 0 ? -1 : hexval(p[1]);
    return a < 0 || b < 0 ? -1 : a * 16 + b;
}

/* The ways the bytes at t can encode the character c: their lengths into len[] (at most
 * 4), returned count. A backslash is both itself and the start of a JSON escape, so
 * there can be more than one. t is NUL-terminated: reading ahead stops there. */
static int encodings(const char *t, unsigned char c, size_t len[4]) {
    int n = 0;
    if (t[0] == '\\') {
        if (t[1] == 'u' && hex2(t + 2) == 0 && hex2(t + 4) == c) len[n++] = 6;
        /* a JSON-escaped text quoted in JSON again (a stored error in an answer): \\u007c */
        if (t[1] == '\\' && t[2] == 'u' && hex2(t + 3) == 0 && hex2(t + 5) == c) len[n++] = 7;
        if ((t[1] == '/' || t[1] == '\\' || t[1] == '"') && (unsigned char)t[1] == c) len[n++] = 2;
    }
    if (t[0] == '%') {
        if (hex2(t + 1) == c) len[n++] = 3;
        if (t[1] == '2' && t[2] == '5' && hex2(t + 3) == c) len[n++] = 5;   /* %25 7C: encoded twice */
    }
    if ((unsigned char)t[0] == c || (t[0] == '+' && c == ' ')) len[n++] = 1;
    return n;
}

#define NOMATCH ((size_t)-1)

/* Length of the encoded secret[k..n) starting at t, NOMATCH if it does not start there.
 * Only a backslash or a percent sign in the secret gives two ways to try, so the
 * recursion stays shallow for real secrets (LWA tokens have neither). */
static size_t match_at(const char *t, const char *secret, size_t k, size_t n) {
    size_t len[4], used = 0;
    for (; k < n; k++) {
        if (!t[used]) return k >= TAIL_MIN ? used : NOMATCH;   /* cut off by the end of the text */
        int ways = encodings(t + used, (unsigned char)secret[k], len);
        if (ways == 0) return NOMATCH;
        if (ways > 1) {   /* try each way for the rest of the secret; the first that fits */
            for (int w = 0; w < ways; w++) {
                size_t m = match_at(t + used + len[w], secret, k + 1, n);
                if (m != NOMATCH) return used + len[w] + m;
            }
            return NOMATCH;
        }
        used += len[0];
    }
    return used;
}

int sb_scrub_text(char *text, const char *secret) {
    size_t n = secret ? strlen(secret) : 0;
    int count = 0;
    if (!text || n < 4) return 0;
    for (char *p = text; *p; p++) {
        size_t m = match_at(p, secret, 0, n);
        if (m == NOMATCH) continue;
        size_t rest = strlen(p + m);
        memcpy(p, "****", 4);
        memmove(p + 4, p + m, rest + 1);   /* m >= 4 always: the secret has 4+ characters */
        p += 3;
        count++;
    }
    return count;
}

/* ---- the registry ---- */

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct { char *raw, *b64; int refs; } reg[MAX_SECRETS];

static void wipe_free(char *p) {
    if (p) OPENSSL_cleanse(p, strlen(p));
    free(p);
}

int sb_scrub_add(const char *secret) {
    size_t n = secret ? strlen(secret) : 0;
    int rc = 0;
    if (n < 4) return 0;
    pthread_mutex_lock(&reg_mu);
    int free_slot = -1, i;
    for (i = 0; i < MAX_SECRETS; i++) {
        if (reg[i].raw && !strcmp(reg[i].raw, secret)) { reg[i].refs++; goto out; }
        if (!reg[i].raw && free_slot < 0) free_slot = i;
    }
    if (free_slot < 0) { rc = SB_ENOMEM; goto out; }
    char *raw = strdup(secret), *b64 = malloc(4 * ((n + 2) / 3) + 1);
    if (!raw || !b64) { wipe_free(raw); free(b64); rc = SB_ENOMEM; goto out; }
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)secret, (int)n);
    reg[free_slot].raw = raw;
    reg[free_slot].b64 = b64;
    reg[free_slot].refs = 1;
out:
    pthread_mutex_unlock(&reg_mu);
    return rc;
}

void sb_scrub_remove(const char *secret) {
    if (!secret) return;
    pthread_mutex_lock(&reg_mu);
    for (int i = 0; i < MAX_SECRETS; i++)
        if (reg[i].raw && !strcmp(reg[i].raw, secret) && --reg[i].refs == 0) {
            wipe_free(reg[i].raw);
            wipe_free(reg[i].b64);
            reg[i].raw = reg[i].b64 = NULL;
        }
    pthread_mutex_unlock(&reg_mu);
}

void sb_scrub_all(char *text) {
    if (!text || !*text) return;
    pthread_mutex_lock(&reg_mu);
    for (int i = 0; i < MAX_SECRETS; i++)
        if (reg[i].raw) {
            sb_scrub_text(text, reg[i].raw);
            sb_scrub_text(text, reg[i].b64);
        }
    pthread_mutex_unlock(&reg_mu);
}
