/* scrub.h: takes secrets out of text before it is shown, logged, stored or answered.
 *
 * A secret travels in more than its raw form: a token endpoint that echoes the request
 * shows `refresh_token=Atzr%7C...` (form/percent-encoded), a JSON body `Atzr\u007c...`
 * or `a\/b` (JSON-escaped), an Authorization header its base64. sb_scrub_text matches
 * the secret character by character where each character may be raw, %XX (either hex
 * case, also double-encoded %25XX), '+' for a space, or a JSON escape (\uXXXX, \/, \\,
 * \", and \\uXXXX: a JSON-escaped text quoted in JSON again), and replaces the whole
 * encoded span by "****". A secret cut off by the end of the
 * text (a message truncated to its buffer) is scrubbed from its first 8 characters on.
 *
 * The registry holds the secrets this process knows (the SP-API client adds its client
 * secret, refresh token and access token); the logger, sb_seterr and every dashboard
 * answer pass their text through sb_scrub_all. */
#ifndef SB_CORE_SCRUB_H
#define SB_CORE_SCRUB_H
#include <stddef.h>

/* Scrubs secret (at least 4 bytes; shorter ones are left alone) from NUL-terminated
 * text in place; returns the number of spans replaced. */
int sb_scrub_text(char *text, const char *secret);

/* Adds a secret to the process's registry (copied; with its base64 form), counted: a
 * secret added twice needs two removes. Thread-safe. Returns 0 or SB_ENOMEM. */
int sb_scrub_add(const char *secret);
void sb_scrub_remove(const char *secret);
/* Scrubs every registered secret from text in place. */
void sb_scrub_all(char *text);

#endif
