#!/usr/bin/env bash
# cli_orders.sh: the order commands as a person uses them, against `sellerbridge sim`
# run as its own process: sync, list, explain, fix a held order, batch invoices, run.
. "$SB_SOURCE_DIR/tests/lib.sh"
D=$SRC/examples/data
$SB init >/dev/null
for k in branches customer_groups gl_accounts products boms stock customers orders; do $SB import $k "$D/$k.csv" >/dev/null; done
$SB sim --scenario "$D/demo-scenario.json" > "$T/sim.out" 2>"$T/sim.err" &
simpid=$!
trap 'kill $simpid 2>/dev/null; rm -rf "$T"' EXIT
for i in $(seq 100); do grep -q listening "$T/sim.out" && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$T/sim.out")
[ -n "$url" ] && ok || bad "simulator did not start: $(cat "$T/sim.err")"
$SB settings set api.endpoint "$url" >/dev/null
$SB settings set api.lwa_endpoint "$url/auth/o2/token" >/dev/null
echo "amzn1.application-oa2-client.simdemo" | $SB credentials set lwa.client_id >/dev/null
echo "sim-demo-client-secret-0123456789" | $SB credentials set lwa.client_secret >/dev/null
echo "Atzr|sim-demo-refresh-token-0123456789" | $SB credentials set lwa.refresh_token >/dev/null
$SB settings set additional.mf_branch "LA Warehouse" >/dev/null
$SB settings set orders.fba_branch "Amazon FBA" >/dev/null
$SB settings set orders.last_updated 2026-11-01 >/dev/null
$SB settings set orders.invoice_mode batch >/dev/null

# no secret in any output or log line
expect_rc 0 $SB --log-level debug sync orders
expect_out "9 orders in 1 page: 6 new, 0 updated, 3 skipped by status, 2 need attention"
grep -q "sim-demo-client-secret\|sim-demo-refresh-token" "$T/out" "$T/err" && bad "secret in output" || ok
expect_rc 0 $SB orders list --stage needs_attention
expect_out "111-0000005-0000005"
expect_out "missing buyer e-mail"
expect_rc 0 $SB --json orders list
python3 -c "import json; d=json.load(open('$T/out')); assert len([o for o in d['orders'] if o['order'].startswith('111-')]) == 5, d" && ok || bad "orders list --json"
expect_rc 0 $SB orders explain 111-0000001-0000001
expect_out "route"
expect_out "LA Warehouse"
expect_rc 1 $SB orders show 999-nope
expect_err "order 999-nope is not stored"
# the order as Amazon sent it, read back from its stored page
expect_rc 0 $SB orders raw 111-0000001-0000001
python3 -c "import json; d=json.load(open('$T/out')); assert d['orderId'] == '111-0000001-0000001' and d['orderItems'], d" && ok || bad "orders raw is Amazon's JSON"
expect_rc 1 $SB orders raw 999-nope
expect_err "no order 999-nope"

# a person fixes a held order: another branch, stock moves with it
expect_rc 1 $SB orders fix 111-0000005-0000005 --branch Nowhere
expect_err "branch 'Nowhere' does not exist"
expect_rc 0 $SB orders fix 111-0000005-0000005 --branch "NJ Warehouse" --resolve
expect_rc 0 $SB orders show 111-0000005-0000005
expect_out "stage                open"
expect_out "branch               NJ Warehouse"
expect_rc 0 $SB orders check
expect_out "match the open orders"

# an order held for an unknown SKU: a retry says the SKU is still unknown; once the product
# is imported, fix --resolve links the line and reserves its stock before releasing it
expect_rc 1 $SB orders retry 111-0000009-0000009
expect_err "SKU 'UNKNOWN-SKU-9' is still not a product: import it"
printf 'sku,asin,name,created_date,batch_tracked,serial_tracked,order_type,buffer_stock,latency\nUNKNOWN-SKU-9,B0UNKNOWN9,Mystery item,2026-11-01,no,no,standard,0,\n' > "$T/p9.csv"
printf 'sku,branch,on_hand\nUNKNOWN-SKU-9,LA Warehouse,10\n' > "$T/s9.csv"
$SB import products "$T/p9.csv" >/dev/null && $SB import stock "$T/s9.csv" >/dev/null && ok || bad "importing the missing product"
expect_rc 0 $SB orders fix 111-0000009-0000009 --resolve
expect_out "lines linked to products, stock reserved; resolved, now open"
expect_eq "$(sqlite3 "$SELLERBRIDGE_DB" "SELECT o.stage || '|' || (l.product_id IS NOT NULL) || '|' || s.reserved FROM sales_orders o JOIN sales_order_lines l ON l.order_id = o.id JOIN stock s ON s.product_id = l.product_id WHERE o.order_ref = '111-0000009-0000009'")" "open|1|1.0" "the released order's line and reservation"
expect_rc 0 $SB orders check
expect_out "match the open orders"
expect_rc 2 $SB orders retry --reason bogus
expect_err "--reason 'bogus' is not one of rule_error, unknown_sku"
expect_rc 0 $SB orders retry --all --reason unknown_sku
expect_out "0 held orders now pass"

# Amazon changes an order after download (ten minutes ago: behind the watermark, read again
# by the overlap): the next sync brings it up to date and explain says what changed
ut=$(date -u -d '10 minutes ago' +%Y-%m-%dT%H:%M:%SZ)
item='{"orderItemId":"000000101","quantityOrdered":1,"product":{"asin":"B0C1MUGBK1","title":"Black ceramic mug 12oz","sellerSku":"MUG-BLK-12","price":{"unitPrice":{"amount":"14.99","currencyCode":"USD"}}}},{"orderItemId":"000000102","quantityOrdered":1,"product":{"asin":"B0C5SPOON4","title":"Teaspoons set of 4","sellerSku":"SPOON-SET-4","price":{"unitPrice":{"amount":"9.50","currencyCode":"USD"}}}}'
curl -sf -X POST "$url/_sim/orders" -d '{"orderId":"111-0000001-0000001","fulfillmentStatus":"UNSHIPPED","lastUpdatedTime":"'"$ut"'","orderItems":['"$item"']}' >/dev/null && ok || bad "changing the order in the simulator"
expect_rc 0 $SB sync orders
expect_out "0 new, 1 updated"
expect_rc 0 $SB orders explain 111-0000001-0000001
expect_out "updated by Amazon: qty MUG-BLK-12 2 -> 1"
expect_rc 0 $SB orders check
expect_out "match the open orders"

# batch invoices: numbered in one go, then nothing left
expect_rc 0 $SB invoices batch --until 2026-11-30
expect_out "orders invoiced INV-000001 .. INV-00000"
expect_rc 0 $SB invoices batch
expect_out "no uninvoiced orders"
expect_rc 2 $SB invoices batch --until soon
expect_err "is not a date"

# rule packs against the stored orders: the same pack changes nothing; a pack routing to
# branches that do not exist is reported, and deploying a broken pack is refused
expect_rc 0 $SB rules dry-run default
expect_out "0 would change, 0 would be held"
# (the sample data has the pack's branches since #18: take them away here)
sqlite3 "$SELLERBRIDGE_DB" "DELETE FROM branches WHERE name IN ('East', 'West')"
expect_rc 0 $SB rules dry-run "$SRC/examples/rules/us-east-west"
expect_out "route.lua: branch 'East' does not exist"
mkdir -p "$T/broken" && printf 'return function(order\n' > "$T/broken/gl.lua"
expect_rc 1 $SB rules use "$T/broken"
expect_err "gl.lua:2:"
expect_err "keeps its current pack"
expect_rc 0 $SB settings get rules.pack
expect_eq "$(cat "$T/out")" default "pack after a refused deploy"
expect_rc 0 $SB rules use "$SRC/examples/rules/amazon-business"
expect_out "now uses rule pack"
before=$(sqlite3 "$SELLERBRIDGE_DB" "SELECT count(*) FROM audit")
expect_rc 0 $SB rules dry-run "$SRC/examples/rules/prime-3pl"
expect_eq "$(sqlite3 "$SELLERBRIDGE_DB" "SELECT count(*) FROM audit")" "$before" "dry-run wrote nothing"
$SB rules use default >/dev/null

# the daemon: one engine per database, SIGTERM ends it cleanly
SELLERBRIDGE_LOG=info $SB run --no-web > "$T/run.out" 2> "$T/run.err" &
runpid=$!
for i in $(seq 100); do grep -q "orders check" "$T/run.err" && break; sleep 0.1; done
expect_rc 1 $SB run --no-web
expect_err "another sellerbridge engine"
kill -TERM $runpid; wait $runpid; rc=$?
expect_eq "$rc" 0 "run exit code after SIGTERM"
grep -q "engine stopped" "$T/run.err" && ok || bad "no clean stop line: $(tail -3 "$T/run.err")"
grep -q "next_check=" "$T/run.err" && ok || bad "no next check in the run log"

# the daemon keeps each integration's Amazon client between checks: a second check (asked
# for on the dashboard) uses the access token the first one got
SELLERBRIDGE_LOG=info $SB run --listen 127.0.0.1:0 > "$T/run2.out" 2> "$T/run2.err" &
runpid=$!
for i in $(seq 200); do grep -q "orders check" "$T/run2.err" && break; sleep 0.1; done
url=$(sed -n 's/.*web dashboard listening url=\([^ ]*\).*/\1/p' "$T/run2.err" | head -1)
tok=$(cat "$SELLERBRIDGE_DB.web-token")
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
  -d '{}' "${url}api/v1/jobs/orders/run")
expect_eq "$code" 202 "run-now answer"
for i in $(seq 200); do [ "$(grep -c "orders check" "$T/run2.err")" -ge 2 ] && break; sleep 0.1; done
expect_eq "$(grep -c "orders check" "$T/run2.err")" 2 "orders checks in the daemon"
expect_eq "$(grep -c "LWA access token refreshed" "$T/run2.err")" 1 "token refreshes over two checks"
kill -TERM $runpid; wait $runpid

# `status`: what the engine did, per job; the same document as the dashboard's /api/v1/status
expect_rc 0 $SB status
expect_out "engine: not running"
expect_out "integration main"
expect_out "orders    idle"
expect_rc 0 $SB --json status
status_cli=$(cat "$T/out")
case "$status_cli" in *'"job":"orders","state":"idle"'*'"next_due":"20'*) ok ;; *) bad "status --json: $status_cli" ;; esac
$SB web --listen 127.0.0.1:0 >"$T/web.out" 2>&1 &
web_pid=$!
for i in $(seq 200); do grep -q "dashboard at" "$T/web.out" && break; sleep 0.05; done
wurl=$(sed -n 's/^sellerbridge web: dashboard at \(http[^ ]*\)$/\1/p' "$T/web.out")
curl -s -H "Authorization: Bearer $(cat "$SELLERBRIDGE_DB.web-token")" "${wurl}api/v1/status" > "$T/status.web"
printf '%s\n' "$status_cli" > "$T/status.cli"
cmp -s "$T/status.cli" <(cat "$T/status.web"; echo) && ok || bad "status differs: cli $(cat "$T/status.cli") web $(cat "$T/status.web")"
kill -TERM $web_pid; wait $web_pid

# a simulator's rate scale left in place is refused for Amazon itself, before any call
$SB settings set api.rate_scale 1000 >/dev/null
saved_ep=$($SB settings get api.endpoint)
$SB settings set api.endpoint https://sellingpartnerapi-na.amazon.com >/dev/null
expect_rc 1 $SB sync orders
expect_err "api.rate_scale is 1000, but api.endpoint https://sellingpartnerapi-na.amazon.com is not the simulator"
expect_err "set api.rate_scale 1"
$SB settings set api.endpoint "$saved_ep" >/dev/null
expect_rc 0 $SB sync orders
$SB settings set api.rate_scale 1 >/dev/null

# on a terminal the download shows its progress page by page (stderr); piped, it does not
if command -v script >/dev/null; then
  script -qec "$SB sync orders" /dev/null > "$T/tty.out" 2>&1 && ok || bad "sync orders on a terminal: $(tail -c 300 "$T/tty.out")"
  grep -q "sync orders: page 1, " "$T/tty.out" && ok || bad "no progress line on a terminal: $(tail -c 300 "$T/tty.out")"
  expect_rc 0 $SB sync orders
  grep -q "sync orders: page" "$T/err" && bad "a progress line when not on a terminal" || ok
else
  echo "SKIP: script (bsdutils) is not installed: the terminal's progress line is not checked"
fi
finish
