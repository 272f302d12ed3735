#!/usr/bin/env bash
# crash_orders.sh: the order download survives SIGKILL at any moment. `sellerbridge sim`
# runs as its own process with generated orders; `sellerbridge sync orders` is started
# again and again and killed after a random delay (0 .. 0.9 x the last complete run), then
# run to completion. After every kill: the file is sound, reservations equal open lines,
# no order twice, and the watermark has not moved unless every order of the window is
# stored. At the end the database equals a reference made by one uninterrupted sync of
# the same scenario, order by order (stage, branch, customer, GL, invoice, lines, stock).
# Then Amazon changes orders (PENDING completing, cancellations) in a few rounds, and the
# passes that apply the changes are killed too (the last round listed 20 hours late, so
# only the daily reconciliation finds it); the reference applies them uninterrupted.
#   CRASH_KILLS (50)  CRASH_ORDERS (3000)  CRASH_SEED (random; printed, reproduces the delays)
. "$SB_SOURCE_DIR/tests/lib.sh"
. "$SB_SOURCE_DIR/tests/crash/setup.sh"
KILLS=${CRASH_KILLS:-50} ORDERS=${CRASH_ORDERS:-3000} SEED=${CRASH_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
echo "crash_orders: seed $SEED, $ORDERS orders, $KILLS kills (CRASH_SEED=$SEED reproduces the delays)"
sim_start "$SEED" "$ORDERS"
trap 'sim_stop; rm -rf "$T"' EXIT
SIM_ORDERS=$(sim_get /_sim/state | jq .orders)
expect_eq "$SIM_ORDERS" "$ORDERS" "orders in the simulator"
REF=$T/ref.db DB=$T/crash.db
db_prepare "$REF" 30
db_prepare "$DB" 30
BACK=$(sqlite3 "$DB" "SELECT value FROM settings WHERE name = 'orders.last_updated'")

# the reference: one uninterrupted pass; the crashed runs must come out the same
t0=$(now_ms)
SELLERBRIDGE_DB=$REF $SB sync orders > "$T/ref.out" 2>&1 && ok || bad "reference sync: $(cat "$T/ref.out")"
FULL_MS=$(( $(now_ms) - t0 ))
PAGES=$(( (ORDERS + 99) / 100 ))
echo "reference: $(head -1 "$T/ref.out" | cut -c1-160) in $FULL_MS ms"
expect_eq "$(sqlite3 "$REF" "SELECT COUNT(DISTINCT order_ref) FROM sales_orders")" "$ORDERS" "orders in the reference"

# repeating a whole window must not change anything (what every crash relies on)
cp "$REF" "$T/repeat.db"
SELLERBRIDGE_DB=$T/repeat.db $SB settings set orders.last_updated "$BACK" > /dev/null
SELLERBRIDGE_DB=$T/repeat.db $SB sync orders > "$T/repeat.out" 2>&1 && ok || bad "repeated sync: $(cat "$T/repeat.out")"
compare_decisions "$T/repeat.db" "$REF"
expect_out_file() { grep -qF -- "$2" "$1" && ok || bad "$1 lacks '$2': $(head -c 300 "$1")"; }
expect_out_file "$T/repeat.out" "0 new, 0 updated"
expect_out_file "$T/repeat.out" "$ORDERS unchanged"
expect_out_file "$T/repeat.out" " 0 cancelled"

stored() { sqlite3 "$DB" "SELECT COUNT(DISTINCT order_ref) FROM sales_orders"; }
watermark() { sqlite3 "$DB" "SELECT value FROM settings WHERE name = 'orders.last_updated'"; }
kills=0 runs=0 completed=0 newsum=0 t_loop=$(now_ms) TOOK=$FULL_MS   # TOOK: the last complete run
declare -A stage
while [ "$kills" -lt "$KILLS" ]; do
  runs=$((runs + 1))
  delay=$(random_ms $(( TOOK * 9 / 10 )))
  before=$(stored) req0=$(sim_get /_sim/state | jq .requests)
  run_killed "$DB" "$delay" sync orders
  req=$(( $(sim_get /_sim/state | jq .requests) - req0 ))
  after=$(stored) wm=$(watermark)
  if [ "$RC" = 137 ]; then
    kills=$((kills + 1))
    newsum=$((newsum + after - before))
    # where it died: Amazon calls made (1 LWA token + searchOrders pages), and whether
    # the last page (with the watermark) had committed
    if [ "$wm" != "$BACK" ]; then s="after the last commit"
    elif [ "$req" -le 0 ]; then s="before any Amazon call"
    elif [ "$req" -eq 1 ]; then s="after the token, before page 1"
    else s="during page $(( (req - 2) / 10 * 10 + 1 ))-$(( (req - 2) / 10 * 10 + 10 )) of $PAGES"; fi
    stage[$s]=$(( ${stage[$s]:-0} + 1 ))
    consistent "$DB" "after kill $kills ($delay ms, $s)"
    # the watermark moves only with the last page: never ahead of what is stored
    if [ "$wm" != "$BACK" ]; then expect_eq "$after" "$ORDERS" "orders stored when the watermark moved (kill $kills)"; fi
  elif [ "$RC" = 0 ]; then
    completed=$((completed + 1)) TOOK=$RUN_MS
    expect_eq "$after" "$ORDERS" "orders stored after a complete run"
    [ "$wm" != "$BACK" ] && ok || bad "watermark did not move after a complete run"
    # start the window again from the beginning so the next kills land inside it
    SELLERBRIDGE_DB=$DB $SB settings set orders.last_updated "$BACK" > /dev/null
  else
    bad "run $runs (killed after $delay ms) exited $RC: $(head -c 600 "$T/run.err")"
    break
  fi
done
LOOP_MS=$(( $(now_ms) - t_loop ))


# to completion, then the whole proof
SELLERBRIDGE_DB=$DB $SB sync orders > "$T/final.out" 2>&1 && ok || bad "final sync: $(cat "$T/final.out")"

# the update path: Amazon changes orders after download (PENDING orders completing with
# buyer, address and prices; open orders cancelled), ten minutes ago, so behind the
# watermark and read again by the overlap. The reference applies each round in one pass;
# here up to 6 passes are killed at random points, then one runs to completion.
ROUNDS=${CRASH_UPDATE_ROUNDS:-3} upd_kills=0 upd_changed=0
mapfile -t PENDING_REFS < <(sqlite3 "$REF" "SELECT order_ref FROM sales_orders WHERE split_no = 0 AND amazon_status = 'PENDING' ORDER BY order_ref")
mapfile -t OPEN_REFS < <(sqlite3 "$REF" "SELECT order_ref FROM sales_orders WHERE split_no = 0 AND amazon_status = 'UNSHIPPED' AND stage = 'open' ORDER BY order_ref")
for round in $(seq "$ROUNDS"); do
  ut=$(date -u -d '10 minutes ago' +%Y-%m-%dT%H:%M:%S.000Z) changes=""
  if [ "$round" = "$ROUNDS" ] && [ "$ROUNDS" -gt 1 ]; then
    # the last round's changes are listed 20 hours late, past the 12-hour overlap: only
    # the daily reconciliation (48 h back, due again) finds them, and the killed passes
    # are reconciliations
    ut=$(date -u -d '20 hours ago' +%Y-%m-%dT%H:%M:%S.000Z)
    for d in "$DB" "$REF"; do
      sqlite3 "$d" "DELETE FROM settings WHERE name = 'orders.last_reconciled'" || bad "clearing last_reconciled"
    done
  fi
  for i in $(seq $(( (round - 1) * 10 )) $(( round * 10 - 1 ))); do
    [ -n "${PENDING_REFS[$i]:-}" ] && changes="$changes{\"orderId\":\"${PENDING_REFS[$i]}\",\"fulfillmentStatus\":\"UNSHIPPED\",\"lastUpdatedTime\":\"$ut\"},"
  done
  for i in $(seq $(( (round - 1) * 5 )) $(( round * 5 - 1 ))); do
    [ -n "${OPEN_REFS[$i]:-}" ] && changes="$changes{\"orderId\":\"${OPEN_REFS[$i]}\",\"fulfillmentStatus\":\"CANCELLED\",\"lastUpdatedTime\":\"$ut\"},"
  done
  n=$(grep -o orderId <<< "$changes" | wc -l)
  curl -sf -X POST "$SIM_URL/_sim/orders" -d "[${changes%,}]" > /dev/null && ok || bad "round $round: changing orders in the simulator"
  t0=$(now_ms)
  SELLERBRIDGE_DB=$REF $SB sync orders > "$T/ref_upd.out" 2>&1 && ok || bad "reference update sync: $(cat "$T/ref_upd.out")"
  UPD_MS=$(( $(now_ms) - t0 ))
  expect_out_file "$T/ref_upd.out" "0 new, $n updated"
  if [ "$round" = "$ROUNDS" ] && [ "$ROUNDS" -gt 1 ]; then
    expect_eq "$(sqlite3 "$REF" "SELECT json_extract(last_counts, '$.reconciled') || '|' || json_extract(last_counts, '$.missed') FROM sync_state WHERE job = 'orders'")" "1|$n" "the reference's reconciliation"
  fi
  upd_changed=$((upd_changed + n))
  for try in $(seq 6); do
    run_killed "$DB" "$(random_ms $(( UPD_MS * 9 / 10 )))" sync orders
    [ "$RC" = 0 ] && break
    if [ "$RC" = 137 ]; then
      upd_kills=$((upd_kills + 1))
      consistent "$DB" "after kill $upd_kills of the update round $round"
    else bad "update round $round: run exited $RC: $(head -c 600 "$T/run.err")"; break
    fi
  done
  [ "$RC" = 0 ] || SELLERBRIDGE_DB=$DB $SB sync orders > "$T/final.out" 2>&1 && ok || bad "update round $round: $(cat "$T/final.out")"
  compare_decisions "$DB" "$REF"
done
echo "crash_orders: $upd_changed orders changed by Amazon in $ROUNDS rounds, $upd_kills kills while they were applied"

consistent "$DB" "at the end"
expect_eq "$(sqlite3 "$DB" "PRAGMA integrity_check")" ok "integrity_check"
expect_eq "$(stored)" "$SIM_ORDERS" "orders stored (distinct) vs the simulator's"
expect_eq "$(sqlite3 "$DB" "SELECT COUNT(*) FROM sales_orders WHERE split_no = 0")" "$SIM_ORDERS" "order rows (split 0)"
expect_eq "$(sqlite3 "$DB" "SELECT COUNT(*) FROM sales_orders WHERE marketplace_id NOT IN ('${MKTS//,/\',\'}')")" 0 "orders of other marketplaces"
wm=$(watermark)
[ "$wm" != "$BACK" ] && ok || bad "the watermark did not move after the final run"
# no order the simulator changed before the watermark is missing (all are older than it here)
expect_eq "$(sqlite3 "$DB" "SELECT COUNT(*) FROM sales_orders WHERE updated_time >= '$wm'")" 0 "orders stored past the watermark"
compare_decisions "$DB" "$REF"
r=$(sqlite3 "$DB" "ATTACH '$REF' AS ref;
  SELECT COALESCE(email,'') || '|' || COALESCE(name,'') || '|' || COALESCE(channel_customer_id,'') || '|' ||
         COALESCE(group_id,'') || '|' || COALESCE(address1,'') || '|' || COALESCE(postcode,'') FROM main.customers
  EXCEPT SELECT COALESCE(email,'') || '|' || COALESCE(name,'') || '|' || COALESCE(channel_customer_id,'') || '|' ||
         COALESCE(group_id,'') || '|' || COALESCE(address1,'') || '|' || COALESCE(postcode,'') FROM ref.customers LIMIT 10;")
[ -z "$r" ] && ok || bad "customers differ from the reference: $r"
expect_eq "$(sqlite3 "$DB" "SELECT COUNT(*) FROM customers")" "$(sqlite3 "$REF" "SELECT COUNT(*) FROM customers")" "customers"
r=$(sqlite3 "$DB" "ATTACH '$REF' AS ref;
  SELECT p.sku || '@' || b.name || ': on hand ' || s.on_hand || ' reserved ' || s.reserved FROM main.stock s
    JOIN main.products p ON p.id = s.product_id JOIN main.branches b ON b.id = s.branch_id
  EXCEPT SELECT p.sku || '@' || b.name || ': on hand ' || s.on_hand || ' reserved ' || s.reserved FROM ref.stock s
    JOIN ref.products p ON p.id = s.product_id JOIN ref.branches b ON b.id = s.branch_id LIMIT 10;")
[ -z "$r" ] && ok || bad "stock differs from the reference: $r"
r=$(sqlite3 "$DB" "ATTACH '$REF' AS ref;
  SELECT order_ref || ' ' || hook || ' x' || COUNT(*) FROM main.audit GROUP BY order_ref, hook
  EXCEPT SELECT order_ref || ' ' || hook || ' x' || COUNT(*) FROM ref.audit GROUP BY order_ref, hook LIMIT 10;")
[ -z "$r" ] && ok || bad "audit rows differ from the reference (a decision applied twice?): $r"
expect_eq "$(sqlite3 "$DB" "SELECT next_invoice_no FROM integrations")" "$(sqlite3 "$REF" "SELECT next_invoice_no FROM integrations")" "next invoice number"

echo "crash_orders: $kills kills in $runs runs ($completed ran to completion) in $((LOOP_MS / 1000)) s; $newsum orders committed between kills"
for s in "${!stage[@]}"; do printf '  %3d killed %s\n' "${stage[$s]}" "$s"; done | sort -t'-' -k1,1n
[ "$kills" -ge "$KILLS" ] && ok || bad "only $kills kills"
finish
