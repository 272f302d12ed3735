/* sellerbridge.h: the public face of the engine library: version and error codes.
 * Every function in the engine returns 0 on success or one of these negative codes,
 * with a human message in a caller-owned `char *err` buffer of SB_ERRLEN bytes. */
#ifndef SELLERBRIDGE_H
#define SELLERBRIDGE_H

#define SB_ERRLEN 512

enum sb_status {
    SB_OK = 0,
    SB_ERR = -1,          /* generic failure, message says what */
    SB_ENOMEM = -2,
    SB_EINVAL = -3,       /* bad input: setting value, CSV row, argument */
    SB_ENOTFOUND = -4,
    SB_EIO = -5,          /* file or storage failure */
    SB_EHTTP = -6,        /* remote call failed after bounded retries */
    SB_ETHROTTLED = -7,   /* rate limit still exhausted after the retry budget */
    SB_ERULE = -8,        /* a rule raised, timed out, ran out of memory or returned a bad decision */
    SB_EBUSY = -9,        /* another engine holds the database */
    SB_ESCHEMA = -10,     /* database newer than this program */
    SB_EAUTH = -11,       /* LWA or access token refused */
    SB_EINTR = -12,       /* stopped by a signal between transactions */
    SB_ELATER = -13,      /* Amazon grants the call only later: not made; come back at the time given */
    SB_EAMBIG = -14       /* a request that changes something may or may not have taken
                           * effect (5xx, time-out or dropped connection after it went
                           * out); it was not sent again: ask Amazon before repeating */
};

const char *sb_version(void);
const char *sb_strstatus(int status);

#endif
