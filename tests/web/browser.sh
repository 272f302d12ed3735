#!/usr/bin/env bash
# browser.sh: the dashboard in a real browser: headless Chromium (Debian's `chromium`)
# driven by playwright-core (npm, installed into this build folder when missing). Changes
# a setting, sees the validation error for latency 31, edits a routing row, opens an
# order's decisions, presses Update Dispatched Orders, saves a screenshot here
# (web-dashboard.png), then presses "Download orders now" with a second page the simulator
# answers late and sees its progress, then its result. Missing chromium/node/npm is a
# FAILURE, never a silent pass.
. "$SB_SOURCE_DIR/tests/lib.sh"
HERE=$(pwd)
CHROMIUM=${SB_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "FAIL: $CHROMIUM not found: install Debian's 'chromium' package (bash .ci/setup)" >&2; exit 1; }
command -v node >/dev/null || { echo "FAIL: node not found: install 'nodejs' (bash .ci/setup)" >&2; exit 1; }
command -v npm >/dev/null || { echo "FAIL: npm not found: install 'npm' (bash .ci/setup)" >&2; exit 1; }
# Debian 12's own nodejs is 18; playwright-core after 1.60 needs 20
PW=playwright-core@1
[ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ] && PW=playwright-core@1.60
if [ ! -f "$HERE/node_modules/playwright-core/package.json" ]; then
  echo "installing $PW into $HERE/node_modules"
  (cd "$HERE" && npm install --no-audit --no-fund --no-save --loglevel=error "$PW" >"$T/npm.log" 2>&1) ||
    { echo "FAIL: 'npm install $PW' failed: $(tail -5 "$T/npm.log")" >&2; exit 1; }
fi

# a demo database (sample data, settings, downloaded orders) behind the dashboard
"$SB" demo --dir "$T/demo" >"$T/demo.log" 2>&1 || { echo "FAIL: demo: $(tail -5 "$T/demo.log")" >&2; exit 1; }
DB=$T/demo/sellerbridge.db
SECRET=sim-demo-client-secret-0123456789   # the simulator accepts it; it must never be shown
echo "$SECRET" | "$SB" --db "$DB" credentials set lwa.client_secret >/dev/null || { echo "FAIL: credentials set" >&2; exit 1; }
# a live simulator for "Update Dispatched Orders", and one open order dispatched locally
"$SB" sim --port 0 --scenario "$SRC/examples/data/demo-scenario.json" >"$T/sim.out" 2>"$T/sim.err" &
SIM_PID=$!
WEB_PID=""
trap 'kill $SIM_PID $WEB_PID 2>/dev/null; wait $SIM_PID $WEB_PID 2>/dev/null; rm -rf "$T"' EXIT
SIM=""
for _ in $(seq 1 100); do
  SIM=$(sed -n 's/^listening on \(http[^ ]*\)$/\1/p' "$T/sim.out")
  [ -n "$SIM" ] && break
  sleep 0.1
done
[ -n "$SIM" ] || { echo "FAIL: the simulator did not start: $(cat "$T/sim.err")" >&2; exit 1; }
"$SB" --db "$DB" settings set api.endpoint "$SIM" >/dev/null && "$SB" --db "$DB" settings set api.lwa_endpoint "$SIM/auth/o2/token" >/dev/null ||
  { echo "FAIL: pointing the demo at the simulator" >&2; exit 1; }
REF=$(sqlite3 "$DB" "SELECT order_ref FROM sales_orders WHERE stage = 'open' AND source = 'amazon' AND split_no = 0
                     AND fulfilled_by = 'MERCHANT' AND auto_dispatched = 0 AND branch <> 'Amazon FBA' ORDER BY id LIMIT 1")
[ -n "$REF" ] || { echo "FAIL: no open merchant order in the demo database" >&2; exit 1; }
"$SB" --db "$DB" dispatch "$REF" --carrier UPS --tracking 1Z999AA10123456784 >"$T/dispatch.out" 2>&1 ||
  { echo "FAIL: dispatch $REF: $(cat "$T/dispatch.out")" >&2; exit 1; }

# a rule error for the bulk fix (the pack is fine now: a retry stores the order again)
# (an order held for a rule error reserves nothing: its reservation goes with it)
sqlite3 "$DB" "UPDATE stock SET reserved = reserved - (SELECT SUM(l.qty) FROM sales_order_lines l JOIN sales_orders o
                 ON o.id = l.order_id WHERE o.order_ref = '111-0000005-0000005' AND l.product_id = stock.product_id)
               WHERE branch_id = (SELECT b.id FROM branches b JOIN sales_orders o ON o.branch = b.name
                 WHERE o.order_ref = '111-0000005-0000005')
                 AND product_id IN (SELECT l.product_id FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id
                 WHERE o.order_ref = '111-0000005-0000005');
               UPDATE sales_orders SET stage = 'rule_error', rule_error = 'route.lua:3: attempt to index a nil value'
               WHERE order_ref = '111-0000005-0000005'" || { echo "FAIL: making a rule error" >&2; exit 1; }
expect_rc 0 "$SB" --db "$DB" orders check
"$SB" --db "$DB" web --listen 127.0.0.1:0 >"$T/web.out" 2>"$T/web.err" &
WEB_PID=$!
URL=""
for _ in $(seq 1 100); do
  URL=$(sed -n 's/^sellerbridge web: dashboard at \(http[^ ]*\)$/\1/p' "$T/web.out")
  [ -n "$URL" ] && break
  sleep 0.1
done
[ -n "$URL" ] || { echo "FAIL: the server did not start: $(cat "$T/web.err")" >&2; exit 1; }
TOKEN=$(cat "$DB.web-token")
expect_eq "$(stat -c %a "$DB.web-token")" 600 "token file mode"

NODE_PATH="$HERE/node_modules" SB_URL="$URL" SB_SIM="$SIM" SB_TOKEN="$TOKEN" SB_CHROMIUM="$CHROMIUM" SB_PROFILE="$T/profile" \
  SB_SHOT="$HERE/web-dashboard.png" SB_SECRET="$SECRET" SB_EXPECT_DISPATCH="1 sent to Amazon" SB_UNKNOWN_ORDER=111-0000009-0000009 node "$SRC/tests/web/browser.js" >"$T/node.out" 2>&1
rc=$?
cat "$T/node.out"
expect_eq "$rc" 0 "browser script exit code"

# what the page did is in the database
expect_eq "$("$SB" --db "$DB" settings get stock.formula)" "soh" "stock.formula after the page saved it"
expect_eq "$("$SB" --db "$DB" settings get additional.fulfillment_latency)" "2" "latency unchanged after the refused 31"
grid=$("$SB" --db "$DB" settings get orders.routing.grid)
case "$grid" in *'"countries":["US","CA"]'*) ok ;; *) bad "routing row 1 not edited: $grid" ;; esac
# the confirmation reached the simulator
log=$(curl -s "$SIM/_sim/requests")
case "$log" in *shipmentConfirmation*"$REF"*|*"$REF"*shipmentConfirmation*) ok ;; *) bad "no confirmShipment for $REF in the simulator's log" ;; esac
[ -s "$HERE/web-dashboard.png" ] && ok || bad "no screenshot at $HERE/web-dashboard.png"
# the link stored the alias and released the order with its line linked
expect_eq "$(sqlite3 "$DB" "SELECT a.channel_sku || '>' || p.sku FROM sku_aliases a JOIN products p ON p.id = a.product_id")" \
  "UNKNOWN-SKU-9>MUG-BLK-12" "the alias the page stored"
expect_eq "$(sqlite3 "$DB" "SELECT o.stage || ' ' || (l.product_id IS NOT NULL) FROM sales_orders o JOIN sales_order_lines l
                             ON l.order_id = o.id WHERE o.order_ref = '111-0000009-0000009'")" "open 1" "the linked order"
# the download the page ran stored Amazon's 150 new orders, each once
expect_eq "$(sqlite3 "$DB" "SELECT count(DISTINCT order_ref) || ' ' || count(*) FROM sales_orders WHERE order_ref LIKE '113-%' AND split_no = 0")" \
  "150 150" "the orders the page's download stored"
expect_rc 0 "$SB" --db "$DB" orders check
finish
