/* version.c: version string and status names (see sellerbridge.h). */
#include "sellerbridge.h"

const char *sb_version(void) { return SB_VERSION; }

const char *sb_strstatus(int status) {
    switch (status) {
    case SB_OK: return "ok";
    case SB_ENOMEM: return "out of memory";
    case SB_EINVAL: return "invalid input";
    case SB_ENOTFOUND: return "not found";
    case SB_EIO: return "i/o error";
    case SB_EHTTP: return "remote call failed";
    case SB_ETHROTTLED: return "throttled";
    case SB_ERULE: return "rule error";
    case SB_EBUSY: return "busy";
    case SB_ESCHEMA: return "schema too new";
    case SB_EAUTH: return "authorization refused";
    case SB_EINTR: return "interrupted";
    case SB_ELATER: return "not yet: come back later";
    case SB_EAMBIG: return "outcome unknown";
    default: return "error";
    }
}
