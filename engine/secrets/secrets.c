/* secrets.c: AES-256-GCM credential storage (see secrets.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "core/util.h"
#include "secrets/secrets.h"
#include "store/credentials.h"

#define NONCE_LEN SB_CRED_NONCE_LEN
#define TAG_LEN SB_CRED_TAG_LEN

const char *const sb_credential_names[] = {"lwa.client_id", "lwa.client_secret", "lwa.refresh_token",
                                             "aws.access_key_id", "aws.secret_access_key", "aws.session_token", NULL};

int sb_credential_known(const char *name) {
    for (int i = 0; sb_credential_names[i]; i++)
        if (!strcmp(sb_credential_names[i], name)) return 1;
    return 0;
}

static int hex_key(const char *hex, unsigned char key[SB_KEY_LEN]) {
    if (strlen(hex) != SB_KEY_LEN * 2) return -1;
    for (int i = 0; i < SB_KEY_LEN; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        key[i] = (unsigned char)v;
    }
    return 0;
}

int sb_secrets_key(const char *db_path, int create, unsigned char key[SB_KEY_LEN], char *err) {
    const char *env = getenv("SELLERBRIDGE_KEY");
    if (env && *env) {
        if (hex_key(env, key)) return sb_seterr(err, SB_EINVAL, "SELLERBRIDGE_KEY must be 64 hex digits (a 256-bit key)");
        return 0;
    }
    char path[4096];
    const char *kf = getenv("SELLERBRIDGE_KEY_FILE");
    if (kf && *kf) snprintf(path, sizeof path, "%s", kf);
    else snprintf(path, sizeof path, "%s.key", db_path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        unsigned char k[SB_KEY_LEN];
        char hex[SB_KEY_LEN * 2 + 2];
        if (RAND_bytes(k, sizeof k) != 1) return sb_seterr(err, SB_ERR, "cannot make a key: no randomness");
        for (int i = 0; i < SB_KEY_LEN; i++) snprintf(hex + 2 * i, 3, "%02x", k[i]);
        hex[SB_KEY_LEN * 2] = '\n';
        int wfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (wfd < 0) return sb_seterr(err, SB_EIO, "%s: cannot create key file: %s", path, strerror(errno));
        ssize_t w = write(wfd, hex, SB_KEY_LEN * 2 + 1);
        close(wfd);
        OPENSSL_cleanse(k, sizeof k);
        OPENSSL_cleanse(hex, sizeof hex);
        if (w != SB_KEY_LEN * 2 + 1) return sb_seterr(err, SB_EIO, "%s: cannot write key file", path);
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) return sb_seterr(err, SB_EIO, "%s: cannot read the key file (%s); it is made by "
                                 "'sellerbridge init', or set SELLERBRIDGE_KEY", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077)) {
        close(fd);
        return sb_seterr(err, SB_EINVAL, "%s: key file is readable by others (mode %03o); run 'chmod 600 %s'",
                         path, (unsigned)(st.st_mode & 0777), path);
    }
    char hex[SB_KEY_LEN * 2 + 8] = "";
    ssize_t n = read(fd, hex, sizeof hex - 1);
    close(fd);
    if (n < SB_KEY_LEN * 2) return sb_seterr(err, SB_EINVAL, "%s: key file is damaged (expected 64 hex digits)", path);
    hex[SB_KEY_LEN * 2] = '\0';
    int rc = hex_key(hex, key) ? sb_seterr(err, SB_EINVAL, "%s: key file is damaged (expected 64 hex digits)", path) : 0;
    OPENSSL_cleanse(hex, sizeof hex);
    return rc;
}

static void make_aad(char *aad, size_t len, int64_t integ, const char *name) {
    snprintf(aad, len, "sellerbridge:%lld:%s", (long long)integ, name);
}

int sb_secrets_put(sb_store *s, int64_t integ, const char *name, const char *value,
                   const unsigned char key[SB_KEY_LEN], char *err) {
    sb_store_sealed v = {0};
    int len = (int)strlen(value), outl = 0, fin = 0, rc = 0;
    unsigned char *ct = malloc((size_t)len + 16);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    char aad[128];
    if (!ct || !c) { rc = SB_ENOMEM; goto out; }
    make_aad(aad, sizeof aad, integ, name);
    if (RAND_bytes(v.nonce, NONCE_LEN) != 1 ||
        EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, v.nonce) != 1 ||
        EVP_EncryptUpdate(c, NULL, &outl, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
        EVP_EncryptUpdate(c, ct, &outl, (const unsigned char *)value, len) != 1 ||
        EVP_EncryptFinal_ex(c, ct + outl, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, v.tag) != 1) {
        rc = sb_seterr(err, SB_ERR, "%s: encryption failed", name);
        goto out;
    }
    v.ct = ct;
    v.ctlen = (size_t)(outl + fin);
    rc = sb_store_credential_put(s, integ, name, &v, err);
out:
    EVP_CIPHER_CTX_free(c);
    if (ct) { OPENSSL_cleanse(ct, (size_t)len + 16); free(ct); }
    return rc;
}

int sb_secrets_get(sb_store *s, int64_t integ, const char *name, char **value,
                   const unsigned char key[SB_KEY_LEN], char *err) {
    sb_store_sealed v;
    EVP_CIPHER_CTX *c = NULL;
    char *pt = NULL, aad[128];
    int outl = 0, fin = 0;
    *value = NULL;
    /* SB_ENOTFOUND (not set) and a database that cannot be read come apart here */
    int rc = sb_store_credential_get(s, integ, name, &v, err);
    if (rc) return rc;
    make_aad(aad, sizeof aad, integ, name);
    pt = malloc(v.ctlen + 1);
    c = EVP_CIPHER_CTX_new();
    if (!pt || !c) { rc = SB_ENOMEM; goto out; }
    if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, v.nonce) != 1 ||
        EVP_DecryptUpdate(c, NULL, &outl, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
        EVP_DecryptUpdate(c, (unsigned char *)pt, &outl, v.ct, (int)v.ctlen) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, v.tag) != 1 ||
        EVP_DecryptFinal_ex(c, (unsigned char *)pt + outl, &fin) != 1) {
        rc = sb_seterr(err, SB_EAUTH, "credential %s cannot be decrypted: wrong key (SELLERBRIDGE_KEY or "
                       "the key file) or the value was tampered with", name);
        goto out;
    }
    pt[outl + fin] = '\0';
    *value = pt;
    pt = NULL;
out:
    if (pt) { OPENSSL_cleanse(pt, v.ctlen + 1); free(pt); }
    EVP_CIPHER_CTX_free(c);
    free(v.ct);
    return rc;
}

int sb_secrets_delete(sb_store *s, int64_t integ, const char *name, char *err) {
    return sb_store_credential_delete(s, integ, name, err);
}

void sb_secrets_wipe(char *value) {
    if (!value) return;
    OPENSSL_cleanse(value, strlen(value));
    free(value);
}
