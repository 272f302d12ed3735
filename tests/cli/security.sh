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

# file modes under umask 022: the database and, while a connection is open, its -wal and
# -shm; the key; the admin token; an export
expect_eq "$(stat -c %a "$SELLERBRIDGE_DB")" 600 "database mode"
expect_eq "$(stat -c %a "$SELLERBRIDGE_KEY_FILE")" 600 "key file mode"
$SB web --listen 127.0.0.1:0 >"$T/web.out" 2>&1 &
web_pid=$!
for i in $(seq 200); do grep -q "dashboard at" "$T/web.out" && break; sleep 0.05; done
grep -q "dashboard at" "$T/web.out" && ok || bad "web did not start: $(cat "$T/web.out")"
URL=$(sed -n 's/^sellerbridge web: dashboard at \(http[^ ]*\)$/\1/p' "$T/web.out")
for f in "$SELLERBRIDGE_DB-wal" "$SELLERBRIDGE_DB-shm" "$SELLERBRIDGE_DB.web-token"; do
  [ -e "$f" ] && expect_eq "$(stat -c %a "$f")" 600 "mode of $(basename "$f")" || bad "$f missing"
done
# the 401 answer names no file
body=$(curl -s "${URL}api/v1/summary")
case "$body" in *"admin token"*) ok ;; *) bad "401 body: $body" ;; esac
case "$body" in *"$T"*|*web-token*) bad "401 body names the token file: $body" ;; *) ok ;; esac
kill $web_pid; wait $web_pid
expect_rc 0 $SB export branches --out "$T/branches.csv"
expect_eq "$(stat -c %a "$T/branches.csv")" 600 "export mode"
grep -q "LA Warehouse" "$T/branches.csv" && ok || bad "export content"
echo old >"$T/loose.csv"; chmod 644 "$T/loose.csv"
expect_rc 0 $SB export branches --out "$T/loose.csv"
expect_eq "$(stat -c %a "$T/loose.csv")" 600 "export over an existing 0644 file"
# a token file others can read or write, another user's, or a symbolic link is refused
chmod 644 "$SELLERBRIDGE_DB.web-token"
expect_rc 1 $SB web token-path
expect_err "may be read or changed by others (mode 644); refused"
chmod 620 "$SELLERBRIDGE_DB.web-token"
expect_rc 1 $SB web --listen 127.0.0.1:0
expect_err "may be read or changed by others (mode 620); refused"
chmod 600 "$SELLERBRIDGE_DB.web-token"
ln -s "$SELLERBRIDGE_DB.web-token" "$T/link-token"
expect_rc 1 $SB web token-path --token-file "$T/link-token"
expect_err "is a symbolic link; refused"
expect_rc 0 $SB web token-path
expect_out "$SELLERBRIDGE_DB.web-token"

finish
