#!/usr/bin/env bash
# connect.sh: `sellerbridge connect` against the simulator's LWA endpoint: the three values
# from standard input (one a line, as when it is not a terminal), checked with one token
# call; good values are stored encrypted and shown masked, a bad refresh token or client
# secret is refused in plain words and changes nothing; a missing value is refused.
. "$SB_SOURCE_DIR/tests/lib.sh"
cd "$T" || exit 1
CID=amzn1.application-oa2-client.simdemo
SECRET=sim-demo-client-secret-0123456789
TOKEN='Atzr|sim-demo-refresh-token-0123456789'
$SB sim --port 0 >"$T/sim.out" 2>"$T/sim.err" &
SIM_PID=$!
trap 'kill $SIM_PID 2>/dev/null; wait $SIM_PID 2>/dev/null; rm -rf "$T"' EXIT
SIM=""
for _ in $(seq 1 100); do
  SIM=$(sed -n 's/^listening on \(http[^ ]*\)$/\1/p' "$T/sim.out"); [ -n "$SIM" ] && break; sleep 0.1
done
[ -n "$SIM" ] && ok || bad "the simulator did not start: $(cat "$T/sim.err")"
expect_rc 0 $SB init --region na --marketplace ATVPDKIKX0DER
expect_rc 0 $SB settings set api.endpoint "$SIM"
expect_rc 0 $SB settings set api.lwa_endpoint "$SIM/auth/o2/token"
expect_rc 0 $SB settings set api.max_retries 0

# a bad refresh token: refused in Amazon's words made plain, nothing stored
printf '%s\n%s\n%s\n' "$CID" "$SECRET" "Atzr|wrong" | expect_rc 1 $SB connect
expect_err "Amazon refused the refresh token (invalid_grant)"
expect_err "nothing was changed (no credentials are stored)"
expect_rc 0 $SB credentials list
expect_out "lwa.refresh_token    (not set)"

# the good values: accepted, stored, masked; the secrets are never printed
printf '%s\n%s\n%s\n' "$CID" "$SECRET" "$TOKEN" | expect_rc 0 $SB connect
expect_out "Amazon accepted the credentials: it issued an access token."
expect_out "credentials stored encrypted"
if grep -qF -- "$SECRET" "$T/out" "$T/err" || grep -qF -- "$TOKEN" "$T/out" "$T/err"; then bad "a secret was printed"; else ok; fi
expect_rc 0 $SB credentials list
stored=$(cat "$T/out")
case "$stored" in *"lwa.refresh_token    Atzr****"*) ok ;; *) bad "credentials after connect: $stored" ;; esac

# a wrong client secret later: refused, the working credentials stay
printf '%s\n%s\n%s\n' "$CID" "not-the-secret" "$TOKEN" | expect_rc 1 $SB connect
expect_err "Amazon refused the client id or client secret (invalid_client)"
expect_err "the earlier credentials stay"
expect_rc 0 $SB credentials list
expect_eq "$(cat "$T/out")" "$stored" "credentials after a refused connect"
# and they still work: a download gets a token with them
expect_rc 0 $SB sync orders

# missing or bad values are refused before any call
printf '%s\n%s\n' "$CID" "$SECRET" | expect_rc 1 $SB connect
expect_err "no lwa.refresh_token on standard input"
printf '%s\n%s\n%s\n' "$CID" "has space" "$TOKEN" | expect_rc 1 $SB --json connect
expect_err "lwa.client_secret has a space or control character at position 4"
python3 -c "import json; d=json.load(open('$T/out')); assert d['code'] == 'invalid', d" && ok || bad "--json connect error: $(cat "$T/out")"
expect_rc 2 $SB connect --colour
finish
