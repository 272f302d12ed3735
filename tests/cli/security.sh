#!/usr/bin/env bash
# security.sh: what issue 17 found, tried through the CLI as an attacker or a careless
# person would: the credential endpoints, file modes under umask 022, a planted admin
# token file, spreadsheet formulas and control characters in buyer data, NUL bytes and
# huge fields in CSV, and a secret given on the command line.
. "$SB_SOURCE_DIR/tests/lib.sh"
umask 022
expect_rc 0 $SB init
expect_rc 0 $SB import branches "$SRC/examples/data/branches.csv"

# the endpoints that receive the credentials: https or loopback only, and a non-Amazon
# host is named with what will be sent there
expect_rc 1 $SB settings set api.lwa_endpoint http://attacker.example/token
expect_err "plain http would send the Amazon credentials unencrypted"
expect_rc 0 $SB settings get api.lwa_endpoint
expect_eq "$(cat "$T/out")" "https://api.amazon.com/auth/o2/token" "lwa endpoint after refusal"
expect_rc 1 $SB settings set api.endpoint "http://127.0.0.1@attacker.example/"
expect_err "plain http would send"
expect_rc 0 $SB settings set api.lwa_endpoint https://attacker.example/token
expect_err "api.lwa_endpoint: the LWA client id, client secret and refresh token will now be sent to attacker.example, which is not Amazon"
expect_rc 0 $SB settings set api.endpoint http://127.0.0.1:9/
expect_err "api.endpoint: the Amazon access token will now be sent to 127.0.0.1, which is not Amazon"
expect_rc 0 $SB settings set api.lwa_endpoint https://api.amazon.co.uk/auth/o2/token
[ -s "$T/err" ] && bad "a notice for Amazon's own host: $(cat "$T/err")" || ok
expect_rc 0 $SB settings unset api.endpoint
# a plain-http endpoint stored by an older version is refused before anything is sent
sqlite3 "$SELLERBRIDGE_DB" "UPDATE settings SET value = 'http://attacker.example/t' WHERE name = 'api.lwa_endpoint'"
echo "amzn1.application-oa2-client.x" | $SB credentials set lwa.client_id >/dev/null
echo "client-secret-value-42" | $SB credentials set lwa.client_secret >/dev/null
echo "Atzr|IwEBIMYSECRETREFRESHTOKEN0123456789" | $SB credentials set lwa.refresh_token >/dev/null
expect_rc 1 $SB sync orders
expect_err "plain http would send the Amazon credentials unencrypted"
expect_rc 0 $SB settings unset api.lwa_endpoint

finish
