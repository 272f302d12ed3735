#!/usr/bin/env bash
# crash_jobs.sh: every job that writes, killed at random moments. `sellerbridge sim` runs
# as its own process; in random order we run `sync orders`, `dispatch` of an open
# merchant order (whole, or one unit of its first line: partial shipments), the
# confirmation sender `update-dispatched` (additional.auto_update_status on, so dispatch
# also sends), `sync stock` (patchListingsItem) and `sync products` (the listings report),
# each SIGKILLed after a random delay; and the engine itself (`run`, its dashboard serving,
# every job on its own schedule) SIGKILLed after a random delay while `dispatch` and
# `status` run beside it, so its tracking job and a person's dispatch race for the same
# confirmations.
# Then everything runs to completion and we check: every order once and with the
# reference decisions, reservations equal open lines, each package's confirmShipment
# reached the simulator (204) exactly once (a repeat after a kill first asks Amazon with
# getOrder whether the package arrived), stock as accepted is what the
# simulator holds, a second stock run has nothing to send, and every listing is linked to
# its product once with the products watermark at the newest listing.
#   CRASH_KILLS (100)  CRASH_ORDERS (2000)  CRASH_SEED (random; printed)
. "$SB_SOURCE_DIR/tests/lib.sh"
. "$SB_SOURCE_DIR/tests/crash/setup.sh"
KILLS=${CRASH_KILLS:-100} ORDERS=${CRASH_ORDERS:-2000} SEED=${CRASH_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
echo "crash_jobs: seed $SEED, $ORDERS orders, $KILLS kills (CRASH_SEED=$SEED reproduces the choices and delays)"
# listings for the generator's SKUs, so stock uploads have offers to change
jq -n '[(range(200) | tostring | {sku: ("SKU-" + ("000" + .)[-4:]), asin: ("B0SIM" + ("0000" + .)[-5:])}),
        ("MUG-BLK-12", "MUG-WHT-12", "TEA-EARL-100", "KETTLE-SS", "SPOON-SET-4", "GIFT-SET-1" | {sku: ., asin: "B0SAMPLE"})]
      | map(. + {title: "sim product", price: "10.00", quantity: 0, open_date: "2026-01-02T03:04:05Z",
                 fulfillment_channel: "DEFAULT", product_type: "PRODUCT", marketplace_id: "ATVPDKIKX0DER",
                 status: "Active", lead_time_days: 2}) | {listings: .}' > "$T/scenario.json"
sim_start "$SEED" "$ORDERS" "$T/scenario.json"
trap 'sim_stop; rm -rf "$T"' EXIT
SIM_ORDERS=$(sim_get /_sim/state | jq .orders)
REF=$T/ref.db DB=$T/crash.db
db_prepare "$REF" 100000
db_prepare "$DB" 100000
for kv in "integration.seller_id A1SIMSELLER0001" "stock.enabled true" "stock.patch_threshold 25000" "additional.auto_update_status true" \
          "products.enabled true"; do
  SELLERBRIDGE_DB=$DB $SB settings set $kv > /dev/null || bad "settings set $kv"
done
t0=$(now_ms)
SELLERBRIDGE_DB=$REF $SB sync orders > "$T/ref.out" 2>&1 && ok || bad "reference sync: $(cat "$T/ref.out")"
FULL_MS=$(( $(now_ms) - t0 ))
: > "$T/dispatched.txt"

open_order() {   # a random open merchant order of ours, or nothing
  local n; n=$(sqlite3 "$DB" "SELECT COUNT(*) FROM sales_orders WHERE stage = 'open' AND fulfilled_by = 'MERCHANT'
                             AND branch <> 'Amazon FBA' AND amazon_status = 'UNSHIPPED'")
  [ "$n" -gt 0 ] || return 0
  sqlite3 "$DB" "SELECT order_ref FROM sales_orders WHERE stage = 'open' AND fulfilled_by = 'MERCHANT'
                 AND branch <> 'Amazon FBA' AND amazon_status = 'UNSHIPPED' ORDER BY id LIMIT 1 OFFSET $((RANDOM % n))"
}
# daemon_killed MS: `run` on $DB killed after MS ms, with up to four dispatches (which send
# their own confirmations) and a `status` beside it. Sets $RC.
daemon_killed() {
  local ms=$1 t0 pid o k
  t0=$(now_ms)
  SELLERBRIDGE_DB=$DB $SB run --listen 127.0.0.1:0 > "$T/daemon.out" 2> "$T/daemon.err" &
  pid=$!
  for k in 1 2 3 4; do
    o=$(open_order); [ -n "$o" ] || break
    echo "$o" >> "$T/dispatched.txt"; dispatches=$((dispatches + 1))
    SELLERBRIDGE_DB=$DB $SB dispatch "$o" --carrier UPS --tracking "1Z$RANDOM${runs}D$k" > "$T/d.out" 2> "$T/d.err" ||
      grep -q "not open\|nothing left\|above what is left\|confirmation" "$T/d.err" || bad "dispatch beside the engine: $(head -c 400 "$T/d.err")"
  done
  SELLERBRIDGE_DB=$DB $SB status > "$T/status.out" 2>&1 || bad "status beside the engine: $(head -c 300 "$T/status.out")"
  { while kill -0 "$pid" 2>/dev/null && [ $(( $(now_ms) - t0 )) -lt "$ms" ]; do sleep 0.005; done
    kill -KILL "$pid"; wait "$pid"; RC=$?; } 2>/dev/null
}
kills=0 runs=0 dispatches=0 t_loop=$(now_ms)
# kill delays: 0 .. how long the job's last complete run took (first guesses before that)
declare -A killed done_ took=(["sync orders"]=$FULL_MS [dispatch]=700 [update-dispatched]=700 ["sync stock"]=2000 ["sync products"]=1000 [run]=3000)
while [ "$kills" -lt "$KILLS" ]; do
  runs=$((runs + 1))
  case $((RANDOM % 10)) in
    0|1) job="sync orders"; set -- sync orders ;;
    2|3|4) o=$(open_order); [ -n "$o" ] || continue
         job=dispatch; echo "$o" >> "$T/dispatched.txt"; dispatches=$((dispatches + 1))
         line=$(sqlite3 "$DB" "SELECT l.sku || ':1' FROM sales_order_lines l JOIN sales_orders s ON s.id = l.order_id
                               WHERE s.order_ref = '$o' AND l.qty - l.qty_dispatched >= 2 ORDER BY l.line_no LIMIT 1")
         if [ -n "$line" ] && [ $((RANDOM % 2)) = 0 ]; then set -- dispatch "$o" --carrier UPS --tracking "1Z$RANDOM$runs" --line "$line"
         else set -- dispatch "$o" --carrier "Royal Mail" --tracking "RM$RANDOM${runs}GB"; fi
         ;;
    5) job=update-dispatched; set -- update-dispatched ;;
    6) job="sync stock"; set -- sync stock ;;
    7) job="sync products"; set -- sync products ;;
    8|9) job=run ;;
  esac
  if [ "$job" = run ]; then daemon_killed "$(random_ms "${took[run]}")"
  else run_killed "$DB" "$(random_ms "${took[$job]}")" "$@"; fi
  if [ "$RC" = 137 ]; then
    kills=$((kills + 1)); killed[$job]=$(( ${killed[$job]:-0} + 1 ))
    consistent "$DB" "after kill $kills ($job)"
  elif [ "$job" = run ]; then bad "the engine ended by itself ($RC): $(head -c 600 "$T/daemon.err")"
  elif [ "$RC" = 0 ]; then done_[$job]=$(( ${done_[$job]:-0} + 1 )); took[$job]=$RUN_MS
  elif [ "$job" = dispatch ] && grep -q "not open\|nothing left\|above what is left" "$T/run.err"; then :   # raced a cancellation
  else bad "$job exited $RC: $(head -c 600 "$T/run.err")"; fi
done
LOOP_MS=$(( $(now_ms) - t_loop ))

# to completion
SELLERBRIDGE_DB=$DB $SB sync orders > "$T/f1" 2>&1 && ok || bad "final sync orders: $(cat "$T/f1")"
SELLERBRIDGE_DB=$DB $SB update-dispatched > "$T/f2" 2>&1 && ok || bad "final update-dispatched: $(cat "$T/f2")"
SELLERBRIDGE_DB=$DB $SB sync products > "$T/f0" 2>&1 && ok || bad "final sync products: $(cat "$T/f0")"
SELLERBRIDGE_DB=$DB $SB sync stock > "$T/f3" 2>&1 && ok || bad "final sync stock: $(cat "$T/f3")"
SELLERBRIDGE_DB=$DB $SB sync stock > "$T/f4" 2>&1 && ok || bad "second sync stock: $(cat "$T/f4")"
grep -q " 0 sent" "$T/f4" && ok || bad "a second stock run still sends: $(cat "$T/f4")"
consistent "$DB" "at the end"
expect_eq "$(sqlite3 "$DB" "PRAGMA integrity_check")" ok "integrity_check"
# products: every listing linked once, the watermark at the newest listing, nothing doubled
expect_eq "$(sqlite3 "$DB" "SELECT COUNT(*) FROM products WHERE sku LIKE 'SKU-%' AND asin LIKE 'B0SIM%'")" 200 "listings linked to their products"
expect_eq "$(sqlite3 "$DB" "SELECT COUNT(*), COUNT(DISTINCT sku) FROM products")" "$(sqlite3 "$REF" "SELECT COUNT(*), COUNT(DISTINCT sku) FROM products")" "products (no new ones: every listing's SKU exists)"
expect_eq "$(sqlite3 "$DB" "SELECT value FROM settings WHERE name = 'products.last_updated'")" 2026-01-02T03:04:05Z "products watermark"
expect_eq "$(sqlite3 "$DB" "SELECT COUNT(DISTINCT order_ref) FROM sales_orders")" "$SIM_ORDERS" "orders stored vs the simulator's"
expect_eq "$(sqlite3 "$DB" "SELECT COUNT(*) FROM sales_orders WHERE split_no = 0")" "$SIM_ORDERS" "order rows (split 0)"
compare_decisions "$DB" "$REF"

# dispatches: lines and packages agree, every package confirmed, none lost
r=$(sqlite3 "$DB" "SELECT o.order_ref || ': dispatched ' || SUM(l.qty_dispatched) || ' but packages hold ' ||
     COALESCE((SELECT SUM(json_extract(j.value, '$.qty')) FROM shipments s, json_each(s.lines) j WHERE s.order_id = o.id), 0)
   FROM sales_orders o JOIN sales_order_lines l ON l.order_id = o.id WHERE o.auto_dispatched = 0
   GROUP BY o.id HAVING SUM(l.qty_dispatched) <> COALESCE((SELECT SUM(json_extract(j.value, '$.qty')) FROM shipments s,
     json_each(s.lines) j WHERE s.order_id = o.id), 0) LIMIT 5")
[ -z "$r" ] && ok || bad "dispatched quantities and packages disagree: $r"
r=$(sqlite3 "$DB" "SELECT o.order_ref || ' packages ' || group_concat(s.package_no) FROM shipments s JOIN sales_orders o ON o.id = s.order_id
   GROUP BY o.id HAVING COUNT(*) <> MAX(s.package_no) OR COUNT(DISTINCT s.package_no) <> COUNT(*) LIMIT 5")
[ -z "$r" ] && ok || bad "package numbers not 1..n: $r"
expect_eq "$(sqlite3 "$DB" "SELECT COUNT(*) FROM shipments WHERE confirm_state <> 'confirmed'")" 0 "packages not confirmed"
expect_eq "$(sqlite3 "$DB" "SELECT COUNT(*) FROM outbox WHERE status <> 'sent'")" 0 "outbox rows not sent"
expect_eq "$(sqlite3 "$DB" "SELECT COUNT(*) FROM outbox")" "$(sqlite3 "$DB" "SELECT COUNT(*) FROM shipments")" "outbox rows vs packages"
# what the simulator received: order#package -> number of 204 answers
sim_get /_sim/requests | jq -r '.[] | select(.op == "confirmShipment" and .status == 204)
  | (.path | capture("orders/(?<id>[^/]+)/shipment").id) + "#" + (.body | fromjson | .packageDetail.packageReferenceId)' \
  | sort | uniq -c | awk '{print $2 "|" $1}' > "$T/confirmed.txt"
expect_eq "$(sim_get /_sim/state | jq '.requests < 20000')" true "the simulator's request log did not overflow"
r=$(sqlite3 "$DB" "CREATE TEMP TABLE sim(key TEXT PRIMARY KEY, n INTEGER);" ".import $T/confirmed.txt sim" "
  SELECT 'package ' || o.key || ': ' || COALESCE(s.n, 0) || ' confirmations (204) for ' || o.attempts || ' attempts'
  FROM outbox o LEFT JOIN sim s ON s.key = o.key WHERE COALESCE(s.n, 0) < 1 OR s.n > o.attempts
  UNION ALL SELECT 'package ' || key || ': confirmed to Amazon but unknown here' FROM sim
  WHERE key NOT IN (SELECT key FROM outbox) LIMIT 10" 2>&1)
[ -z "$r" ] && ok || bad "confirmations: $r"
twice=$(awk -F'|' '$2 > 1' "$T/confirmed.txt" | wc -l)
expect_eq "$twice" 0 "packages confirmed to Amazon more than once"
packages=$(sqlite3 "$DB" "SELECT COUNT(*) FROM shipments")
# stock: what Amazon accepted is what the simulator holds
tok=$(curl -sf -d "grant_type=refresh_token&client_id=amzn1.application-oa2-client.simdemo&client_secret=sim-demo-client-secret-0123456789&refresh_token=Atzr%7Csim-demo-refresh-token-0123456789" "$SIM_URL/auth/o2/token" | jq -r .access_token)
: > "$T/listings.txt"; pt=
while :; do
  curl -sf -G -H "x-amz-access-token: $tok" "$SIM_URL/listings/2021-08-01/items/A1SIMSELLER0001" \
    --data-urlencode marketplaceIds=ATVPDKIKX0DER --data-urlencode includedData=fulfillmentAvailability \
    --data-urlencode pageSize=20 ${pt:+--data-urlencode "pageToken=$pt"} > "$T/page.json" || { bad "searchListingsItems"; break; }
  jq -r '.items[] | .sku + "|" + (.fulfillmentAvailability[0].quantity | tostring)' "$T/page.json" >> "$T/listings.txt"
  pt=$(jq -r '.pagination.nextToken // empty' "$T/page.json"); [ -n "$pt" ] || break
done
r=$(sqlite3 "$DB" "CREATE TEMP TABLE l(sku TEXT PRIMARY KEY, q INTEGER);" ".import $T/listings.txt l" "
  SELECT s.sku || ': accepted ' || s.quantity || ', Amazon holds ' || COALESCE(l.q, 'nothing') FROM stock_sent s
  LEFT JOIN l ON l.sku = s.sku WHERE s.status = 'accepted' AND (l.q IS NULL OR l.q <> s.quantity) LIMIT 5")
[ -z "$r" ] && ok || bad "stock: $r"
expect_eq "$(sqlite3 "$DB" "SELECT COUNT(*) FROM stock_sent WHERE status = 'accepted' AND sku LIKE 'SKU-%'")" 200 "generated SKUs accepted"
expect_eq "$(sqlite3 "$DB" "SELECT COUNT(*) FROM stock_sent WHERE status IS NOT 'accepted'")" 0 "SKUs not accepted"

echo "crash_jobs: $kills kills in $runs runs in $((LOOP_MS / 1000)) s; $dispatches dispatches, $packages packages,"\
     "$twice confirmed twice"
for j in "sync orders" dispatch update-dispatched "sync stock" "sync products" run; do
  printf '  %-18s %3d killed, %3d completed\n' "$j" "${killed[$j]:-0}" "${done_[$j]:-0}"
done
finish
