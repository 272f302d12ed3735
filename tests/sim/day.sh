# day.sh: a seller's day (examples/day/day-scenario.json) against a real `sellerbridge run`
# on the scaled clock: the simulator and the engine share one Amazon time running DAY_SCALE
# (480) times faster, with Amazon's real rates, feed times and token lifetimes on it, so
# 24 Amazon hours take 3 minutes. A person dispatches two orders from another process in
# the middle of the day. Only the END STATE and counts are asserted (never when a job
# ran): every order downloaded once (the late-listed one too), every change applied, every
# package confirmed exactly once, stock feeds sent in order with quantities the engine
# could hold at the time and the last equal to on-hand minus reserved. Waits are bounded
# polls on Amazon time (the shared clock), never a sleep-and-hope.
. "$SB_SOURCE_DIR/tests/lib.sh"
SCALE=${DAY_SCALE:-480}
DB=$T/day.db
H=3600000                                   # an Amazon hour in ms
R0=$(date +%s%3N)
export SELLERBRIDGE_CLOCK="$SCALE@$R0"      # every process below: the same Amazon time
amazon_ms() { echo $(( R0 + ($(date +%s%3N) - R0) * SCALE )); }
elapsed_h() { echo $(( ($(date +%s%3N) - R0) * SCALE / H )); }
q() { command sqlite3 -cmd ".timeout 5000" "$DB" "$@"; }

# 1. the simulator on the scaled clock, and a business configured against it
$SB sim --scenario "$SRC/examples/day/day-scenario.json" > "$T/sim.out" 2> "$T/sim.err" &
SIM_PID=$!
for i in $(seq 400); do grep -q '^listening on ' "$T/sim.out" && break; sleep 0.05; done
SIM_URL=$(sed -n 's/^listening on //p' "$T/sim.out")
[ -n "$SIM_URL" ] || { bad "simulator did not start: $(cat "$T/sim.err")"; finish; exit 1; }
grep -q "^clock $SCALE@$R0=" "$T/sim.out" && ok || bad "the simulator does not show the shared clock: $(cat "$T/sim.out")"
sim_get() { curl -sf -m 10 "$SIM_URL$1"; }
cleanup() { [ -n "${RUN_PID:-}" ] && kill -KILL "$RUN_PID" 2>/dev/null; kill -TERM "$SIM_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

SELLERBRIDGE_DB=$DB $SB init --name day >/dev/null || bad "init"
for k in branches customer_groups gl_accounts products boms stock customers; do
  SELLERBRIDGE_DB=$DB $SB import $k "$SRC/examples/data/$k.csv" >/dev/null || bad "import $k"
done
# a scaled clock is refused while an endpoint is Amazon's (the defaults): run does not start
SELLERBRIDGE_DB=$DB timeout 20 $SB run --no-web > "$T/refused.out" 2>&1
expect_eq "$?" 1 "run's exit code with a scaled clock and Amazon's endpoints"
grep -q "the clock runs $SCALE times faster than real time (--clock or SELLERBRIDGE_CLOCK), but integration day has api.endpoint '(Amazon's)', not the simulator" "$T/refused.out" \
  && ok || bad "run's refusal of the scaled clock: $(cat "$T/refused.out")"
back=$(date -u -d "@$(( R0 / 1000 - 3600 ))" +%Y-%m-%dT%H:%M:%SZ)
while IFS='=' read -r k v; do
  [ -n "$k" ] || continue
  SELLERBRIDGE_DB=$DB $SB settings set "$k" "$v" >/dev/null 2>>"$T/settings.err" || bad "settings set $k $v: $(tail -1 "$T/settings.err")"
done <<SETTINGS
api.endpoint=$SIM_URL
api.lwa_endpoint=$SIM_URL/auth/o2/token
integration.seller_id=A1SIMSELLER0001
orders.last_updated=$back
orders.statuses=PENDING,UNSHIPPED,PARTIALLY_SHIPPED,SHIPPED,CANCELLED
additional.mf_branch=LA Warehouse
orders.fba_branch=Amazon FBA
orders.customer_group=Amazon Retail
orders.gl_account=4010
orders.routing.enabled=true
orders.routing.grid=[{"countries":["US"],"states":["NY","NJ","PA","MA","FL"],"branch":"NJ Warehouse","backups":["LA Warehouse"]},{"countries":["US"],"branch":"LA Warehouse","backups":["NJ Warehouse"]}]
stock.enabled=true
stock.patch_threshold=0
additional.auto_update_status=true
SETTINGS
echo amzn1.application-oa2-client.simdemo | SELLERBRIDGE_DB=$DB $SB credentials set lwa.client_id >/dev/null &&
echo sim-demo-client-secret-0123456789 | SELLERBRIDGE_DB=$DB $SB credentials set lwa.client_secret >/dev/null &&
echo 'Atzr|sim-demo-refresh-token-0123456789' | SELLERBRIDGE_DB=$DB $SB credentials set lwa.refresh_token >/dev/null ||
  bad "credentials"

# 2. the engine on the same clock
SELLERBRIDGE_DB=$DB SELLERBRIDGE_LOG=info $SB run --no-web > "$T/run.out" 2> "$T/run.err" &
RUN_PID=$!

# 3. the middle of the day: a person dispatches an order, and part of another, once the
#    engine has them (after Amazon hour 10; bounded by hour 16)
stored() { q "SELECT count(*) FROM sales_orders WHERE order_ref = '$1' AND stage = 'open'"; }
until [ "$(elapsed_h)" -ge 10 ] && [ "$(stored 114-0000001-0000001)" = 1 ] && [ "$(stored 114-0000007-0000007)" = 1 ]; do
  [ "$(elapsed_h)" -ge 16 ] && break
  kill -0 $RUN_PID 2>/dev/null || break
  sleep 0.2
done
SELLERBRIDGE_DB=$DB $SB dispatch 114-0000001-0000001 --carrier UPS --tracking 1Z999AA10123456784 > "$T/d1.out" 2>&1 \
  && ok || bad "dispatch of 114-0000001-0000001 at Amazon hour $(elapsed_h): $(cat "$T/d1.out")"
SELLERBRIDGE_DB=$DB $SB dispatch 114-0000007-0000007 --carrier USPS --tracking 9400100000000000000017 \
  --line MUG-WHT-12:2 > "$T/d7.out" 2>&1 && ok || bad "part dispatch of 114-0000007-0000007: $(cat "$T/d7.out")"
echo "dispatched at Amazon hour $(elapsed_h)"

# 4. the end state, reached by the end of the day (hour 18) or a bounded extra (to hour 26)
cat > "$T/expected.sql" <<'SQL'
CREATE TEMP TABLE want(ref TEXT, status TEXT, stage TEXT);
INSERT INTO want VALUES
 ('114-0000001-0000001','SHIPPED','dispatched'), ('114-0000002-0000002','UNSHIPPED','open'),
 ('114-0000003-0000003','UNSHIPPED','open'),     ('114-0000004-0000004','CANCELLED','cancelled'),
 ('114-0000005-0000005','UNSHIPPED','open'),     ('114-0000006-0000006','UNSHIPPED','open'),
 ('114-0000007-0000007','SHIPPED','open'),       ('114-0000008-0000008','UNSHIPPED','open');
SQL
# SKU -> available (on hand minus reserved over every branch, as rules/default/stock.lua's
# "available"), in the engine's database now
avail() { q "SELECT p.sku || ' ' || CAST(max(0, COALESCE(SUM(s.on_hand - s.reserved), 0)) AS INTEGER) FROM products p
             LEFT JOIN stock s ON s.product_id = p.id WHERE p.order_type <> 'kit' GROUP BY p.sku ORDER BY p.sku"; }
sim_qty() { sim_get /_sim/state | jq -r '.listing_quantities | to_entries[] | "\(.key) \(.value)"' | sort; }
settled() {
  [ "$(q ".read $T/expected.sql" "SELECT count(*) FROM want w JOIN sales_orders o ON o.order_ref = w.ref
        AND o.amazon_status = w.status AND o.stage = w.stage")" = 8 ] || return 1
  [ "$(q "SELECT count(*) FROM outbox WHERE status <> 'sent'")" = 0 ] || return 1
  [ "$(q "SELECT count(*) FROM stock_sent WHERE pending_feed IS NOT NULL OR pending_document IS NOT NULL
          OR status IS NOT 'accepted'")" = 0 ] || return 1
  [ "$(avail)" = "$(sim_qty | grep -v '^GIFT-SET-1 ')" ] || return 1
}
until [ "$(elapsed_h)" -ge 18 ] && settled; do
  [ "$(elapsed_h)" -ge 26 ] && break
  kill -0 $RUN_PID 2>/dev/null || break
  sleep 0.5
done
hour=$(elapsed_h)
echo "end state checked at Amazon hour $hour"
[ "$hour" -lt 26 ] && ok || bad "the end state was not reached by Amazon hour 26 (see below)"
sim_get /_sim/state > "$T/state.json" || bad "GET /_sim/state"
sim_get /_sim/requests > "$T/requests.json" || bad "GET /_sim/requests"
kill -TERM $RUN_PID
for i in $(seq 300); do kill -0 $RUN_PID 2>/dev/null || break; sleep 0.05; done
kill -0 $RUN_PID 2>/dev/null && { bad "the engine ignored SIGTERM for 15 s"; kill -KILL $RUN_PID; }
wait $RUN_PID; expect_eq "$?" 0 "run's exit code after SIGTERM"
RUN_PID=
grep -q "engine stopped" "$T/run.err" && ok || bad "no clean stop line: $(tail -3 "$T/run.err")"

# every order once, with its status and stage (the late-listed 114-0000003 included)
expect_eq "$(q "SELECT count(*), count(DISTINCT order_ref) FROM sales_orders WHERE source = 'amazon'")" "8|8" \
  "amazon order rows | distinct orders"
r=$(q ".read $T/expected.sql" "SELECT w.ref || ': want ' || w.status || '/' || w.stage || ', got ' ||
       COALESCE(o.amazon_status || '/' || o.stage, 'nothing') FROM want w LEFT JOIN sales_orders o ON o.order_ref = w.ref
       WHERE o.id IS NULL OR o.amazon_status <> w.status OR o.stage <> w.stage")
expect_eq "$r" "" "orders not in their end state"
expect_eq "$(q "SELECT count(*) FROM sales_orders WHERE stage IN ('needs_attention','rule_error')")" 0 \
  "orders left needing attention ($(q "SELECT order_ref || ': ' || COALESCE(attention_reason, rule_error) FROM sales_orders WHERE stage IN ('needs_attention','rule_error')"))"
# the scheduled changes: the completed PENDING order has its buyer and address, the new
# address, the new quantity
expect_eq "$(q "SELECT ship_city || ' ' || ship_state || ' ' || COALESCE(buyer_name, '') FROM sales_orders WHERE order_ref = '114-0000002-0000002'")" \
  "New York NY Bruno Garcia" "114-0000002 after it completed"
expect_eq "$(q "SELECT ship_line1 || ', ' || ship_city FROM sales_orders WHERE order_ref = '114-0000005-0000005'")" \
  "700 Commerce St, Dallas" "114-0000005's changed address"
expect_eq "$(q "SELECT group_concat(l.sku || 'x' || CAST(l.qty AS INTEGER), ',') FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id
               WHERE o.order_ref = '114-0000006-0000006' ORDER BY l.line_no")" "MUG-BLK-12x3,SPOON-SET-4x1" "114-0000006's changed quantity"
expect_eq "$(q "SELECT group_concat(l.sku || ' ' || CAST(l.qty_dispatched AS INTEGER) || '/' || CAST(l.qty AS INTEGER), ',') FROM sales_order_lines l
               JOIN sales_orders o ON o.id = l.order_id WHERE o.order_ref = '114-0000007-0000007' ORDER BY l.line_no")" \
  "MUG-WHT-12 2/2,TEA-EARL-100 0/1" "114-0000007 partly dispatched"
# nothing left on the simulator's schedule
expect_eq "$(jq .scheduled_changes_pending "$T/state.json")" 0 "scheduled changes not applied by the simulator"

# every package confirmed exactly once on Amazon (an answered 2xx per order and package)
conf=$(jq -r '[.[] | select(.op == "confirmShipment" and .status < 300)
               | (.path | split("/")[4]) + "#" + (.body | fromjson | .packageDetail.packageReferenceId)]
              | group_by(.) | map("\(.[0]) \(length)") | join(",")' "$T/requests.json")
expect_eq "$conf" "114-0000001-0000001#1 1,114-0000007-0000007#1 1" "confirmed packages (order#package count)"
expect_eq "$(q "SELECT count(*) || ' ' || sum(status = 'sent') FROM outbox")" "2 2" "outbox rows, sent"

# stock: feeds one after another per SKU, each quantity one the engine could hold then,
# the last equal to on-hand minus reserved, which is also what Amazon holds now
jq -r --slurpfile st "$T/state.json" '
  def ms: if . == null then -1 else capture("^(?<s>[^.Z]+)(\\.(?<f>[0-9]+))?Z$")
          | ((.s + "Z") | fromdateiso8601) * 1000 + ((.f // "") + "000" | .[0:3] | tonumber) end;
  ($st[0].feed_inputs) as $in | ($st[0].feed_list | map({key: .feedId, value: .}) | from_entries) as $f
  | [.[] | select(.method == "PUT" and (.path | startswith("/_sim/docs/")) and .status < 300)
         | {doc: (.path | split("/")[3]), body}] as $docs
  | $st[0].feed_list | sort_by(.createdTime | ms)[] | . as $feed
  | ($docs | map(select(.doc == $in[$feed.feedId])) | last | .body | fromjson | .messages[])
  | "\($feed.feedId) \($feed.createdTime | ms) \($feed.processingEndTime | ms) \($feed.processingStatus) \(.sku) \(.patches[0].value[0].quantity)"' \
  "$T/requests.json" > "$T/feeds.txt" || bad "reading the feeds"
nfeeds=$(jq '.feed_list | length' "$T/state.json")
[ "$nfeeds" -ge 2 ] && ok || bad "only $nfeeds stock feeds in a day"
echo "stock feeds: $nfeeds; quantities sent per SKU, in order:"
awk '{ q[$5] = q[$5] " " $6 } END { for (s in q) print "  " s ":" q[s] }' "$T/feeds.txt" | sort
expect_eq "$(awk '$4 != "DONE"' "$T/feeds.txt" | head -3)" "" "feeds not DONE"
# a SKU is sent again only after Amazon finished the feed that had it
expect_eq "$(awk '{ if ($5 in end && (end[$5] < 0 || $2 < end[$5])) print $5 " in feed " $1 " created " $2 " before " end[$5]; end[$5] = $3 }' "$T/feeds.txt")" \
  "" "a SKU sent while an earlier feed with it was unfinished"
# the values each SKU can have during the day (initial stock minus a prefix of its orders)
while read -r sku vals; do
  got=$(awk -v s="$sku" '$5 == s { print $6 }' "$T/feeds.txt" | tr '\n' ' ')
  [ -n "$got" ] || { bad "$sku never sent"; continue; }
  for v in $got; do case " $vals " in *" $v "*) ok ;; *) bad "$sku sent $v, not one of: $vals (sent: $got)" ;; esac; done
  # never up again for a SKU whose orders only take stock
  [ "$sku" = KETTLE-SS ] || { echo "$got" | tr ' ' '\n' | grep . | sort -nrc 2>/dev/null && ok || bad "$sku went up: $got"; }
done <<'VALUES'
MUG-BLK-12 225 223 222 220
MUG-WHT-12 140 137 135
TEA-EARL-100 200 196 195
KETTLE-SS 12 11 10
SPOON-SET-4 60 58 57
VALUES
last=$(awk '{ last[$5] = $6 } END { for (s in last) print s " " last[s] }' "$T/feeds.txt" | sort)
expect_eq "$(echo "$last" | grep -v '^GIFT-SET-1 ')" "$(avail)" "last feed per SKU vs on hand minus reserved"
expect_eq "$(jq -r '.listing_quantities | to_entries[] | "\(.key) \(.value)"' "$T/state.json" | sort)" "$last" \
  "Amazon's quantities vs the last feed per SKU"
expect_eq "$(q "SELECT sku || ' ' || quantity FROM stock_sent ORDER BY sku")" "$last" "the engine's record of what it sent"

# Amazon's real rates held: nothing was throttled into failure, the token was refreshed
tokens=$(jq '[.[] | select(.op == "lwaToken" and .status == 200)] | length' "$T/requests.json")
[ "$tokens" -ge 10 ] && ok || bad "only $tokens access tokens in a day of 1-hour tokens"
echo "requests: $(jq length "$T/requests.json"), 429s: $(jq '[.[] | select(.status == 429)] | length' "$T/requests.json"), tokens: $tokens"
# any command that would call Amazon refuses the scaled clock once an endpoint is Amazon's
SELLERBRIDGE_DB=$DB $SB settings set api.lwa_endpoint https://api.amazon.com/auth/o2/token >/dev/null 2>&1 || bad "lwa endpoint"
SELLERBRIDGE_DB=$DB $SB sync orders > "$T/refused.out" 2>&1
expect_eq "$?" 1 "sync orders' exit code with a scaled clock and Amazon's LWA endpoint"
grep -q "the clock runs $SCALE times faster than real time (--clock or SELLERBRIDGE_CLOCK), but api.lwa_endpoint https://api.amazon.com/auth/o2/token is not the simulator" "$T/refused.out" \
  && ok || bad "sync's refusal of the scaled clock: $(cat "$T/refused.out")"
[ "$fail" = 0 ] || { echo "--- engine log (last 30 lines)"; tail -30 "$T/run.err"; echo "--- feeds"; cat "$T/feeds.txt"; }
finish
