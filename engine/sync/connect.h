/* connect.h: connecting a seller account, shared by `sellerbridge connect` and the
 * dashboard's form: the three Login with Amazon values are stored encrypted
 * (engine/secrets) and checked with one token call (sb_spapi_measure_clock); what Amazon
 * answered is said in plain words. Values Amazon refuses are not kept: the ones stored
 * before stay, so a typo never disconnects a working account. */
#ifndef SB_SYNC_CONNECT_H
#define SB_SYNC_CONNECT_H
#include <stdint.h>
#include "store/store.h"

#define SB_CONNECT_VALUE_MAX 2048   /* LWA values are a few hundred characters at most */

typedef struct sb_connect_result {
    int accepted;               /* Amazon issued an access token */
    char said[512];             /* what Amazon answered, for people (no secret in it) */
    int clock_known;
    int64_t clock_skew_ms;      /* Amazon's time minus this machine's */
} sb_connect_result;

/* Checks the three values for integration integ of the database at db_path (opened as
 * s) and keeps them when Amazon accepts them. 0 when accepted; SB_EAUTH when Amazon
 * refused them (out->said says which, the earlier values are kept); SB_EINVAL for an
 * empty, too long or control-character value (named); SB_EHTTP when Amazon could not
 * be reached (nothing kept). err has the message in every case. */
int sb_connect(sb_store *s, const char *db_path, int64_t integ, const char *client_id, const char *client_secret,
               const char *refresh_token, sb_connect_result *out, char *err);

#endif
