#!/usr/bin/env bash
# crash_notify.sh: the notifications job killed at random moments. `sellerbridge sim` runs
# as its own process with an ORDER_CHANGE subscription, delivering each notification at
# least once (some twice, some out of order); orders are placed on it while the engine
# (`run`, notifications on, the scheduled download off, so only notifications bring
# orders) is SIGKILLed after a random delay, again and again, on a clock 100x real time
# (so a message read by a killed engine is visible again after its 30 s in 0.3 s).
# Then the engine reads the queue until it is empty, and we check: every order the
# simulator has is stored once, with the same decisions as an uninterrupted download of
# the same orders (branch, GL account, customer, lines); every notification row is done,
# none failed or set aside; nothing is left on the queue or in its dead-letter list; every
# message the engine deleted belongs to an order it had stored (deleted only after the
# commit); reservations equal open lines.
#   CRASH_KILLS (30)  CRASH_ORDERS (100)  CRASH_SEED (random; printed)
. "$SB_SOURCE_DIR/tests/lib.sh"
. "$SB_SOURCE_DIR/tests/crash/setup.sh"
KILLS=${CRASH_KILLS:-30} ORDERS=${CRASH_ORDERS:-100} SEED=${CRASH_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
SCALE=100
export SELLERBRIDGE_CLOCK="$SCALE@$(date +%s%3N)"
echo "crash_notify: seed $SEED, $ORDERS orders, $KILLS kills, clock x$SCALE (CRASH_SEED=$SEED reproduces the choices and delays)"
cat > "$T/scenario.json" <<JSON
{"notifications": {"subscribed": true}, "sqs": {"duplicate": 0.3, "reorder": 0.3}}
JSON
sim_start "$SEED" 0 "$T/scenario.json"
trap 'sim_stop; rm -rf "$T"' EXIT
QUEUE=$SIM_URL/000000000000/sellerbridge-sim
REF=$T/ref.db DB=$T/crash.db
db_prepare "$REF" 100000
db_prepare "$DB" 100000
for kv in "orders.auto_download false" "notifications.enabled true" "notifications.queue_url $QUEUE" \
          "notifications.wait_seconds 1" "notifications.visibility_seconds 30" "notifications.max_tries 100"; do
  SELLERBRIDGE_DB=$DB $SB settings set $kv > /dev/null || bad "settings set $kv"
done
echo "AKIDCRASHREADER" | SELLERBRIDGE_DB=$DB $SB credentials set aws.access_key_id > /dev/null || bad "aws key"
echo "crash-reader-secret" | SELLERBRIDGE_DB=$DB $SB credentials set aws.secret_access_key > /dev/null || bad "aws secret"

# queue_count: messages on the queue, visible or not, and in its dead-letter list
queue_count() {
  curl -sf -m 10 --aws-sigv4 "aws:amz:us-east-1:sqs" --user AKIDCHECK:check \
    -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: AmazonSQS.GetQueueAttributes' \
    --data "{\"QueueUrl\":\"$QUEUE\",\"AttributeNames\":[\"All\"]}" "$SIM_URL/" |
    jq '.Attributes | (.ApproximateNumberOfMessages | tonumber) + (.ApproximateNumberOfMessagesNotVisible | tonumber)
                      + (.ApproximateNumberOfMessagesDelayed // "0" | tonumber)'
}
placed=0
place_orders() {   # place N orders on the simulator (each brings its ORDER_CHANGE)
  local n=$1 i id sku qty country
  for i in $(seq "$n"); do
    [ "$placed" -lt "$ORDERS" ] || return 0
    placed=$((placed + 1))
    id=$(printf '115-%07d-%07d' "$SEED" "$placed")
    sku=$(printf 'SKU-%04d' $((RANDOM % 200)))
    qty=$((1 + RANDOM % 3))
    case $((RANDOM % 3)) in 0) country='"US","stateOrRegion":"NY"' ;; 1) country='"US","stateOrRegion":"TX"' ;; *) country='"AU","stateOrRegion":"NSW"' ;; esac
    curl -sf -m 10 -X POST "$SIM_URL/_sim/orders" --data "{\"orderId\":\"$id\",\"salesChannel\":{\"marketplaceId\":\"ATVPDKIKX0DER\"},
      \"fulfillment\":{\"fulfillmentStatus\":\"UNSHIPPED\",\"fulfilledBy\":\"MERCHANT\"},
      \"buyer\":{\"buyerName\":\"Buyer $placed\",\"buyerEmail\":\"b$placed@example.com\"},
      \"recipient\":{\"deliveryAddress\":{\"name\":\"Buyer $placed\",\"addressLine1\":\"$placed Main St\",\"city\":\"Town\",
        \"postalCode\":\"10001\",\"countryCode\":$country}},
      \"orderItems\":[{\"orderItemId\":\"1\",\"quantityOrdered\":$qty,\"product\":{\"sellerSku\":\"$sku\"}}]}" > /dev/null \
      || bad "placing order $id"
  done
}

place_orders 10
kills=0
for k in $(seq "$KILLS"); do
  place_orders $(( ORDERS / KILLS + 1 ))
  run_killed "$DB" "$(random_ms 1500)" run --no-web
  [ "$RC" = 137 ] && kills=$((kills + 1))
  consistent "$DB" "after kill $k"
done
place_orders "$ORDERS"
echo "crash_notify: $placed orders placed, $kills engines killed"

# to the end: read until the queue is empty (a message a killed engine held comes back
# after its visibility), on Amazon's clock, bounded
empty=0
for i in $(seq 200); do
  SELLERBRIDGE_DB=$DB $SB sync notifications --json > "$T/last.json" 2> "$T/last.err" || bad "sync notifications: $(cat "$T/last.err")"
  left=$(queue_count)
  if [ "${left:-1}" = 0 ]; then empty=1; break; fi
  sleep 0.1
done
expect_eq "$empty" 1 "the queue emptied (left: ${left:-?})"
consistent "$DB" "at the end"

# the reference: one uninterrupted download of the same orders (past the 2-minute rule)
sleep 1.5
SELLERBRIDGE_DB=$REF $SB sync orders > "$T/ref.out" 2>&1 || bad "reference sync: $(cat "$T/ref.out")"
n_ref=$(sqlite3 "$REF" "SELECT COUNT(DISTINCT order_ref) FROM sales_orders")
n_db=$(sqlite3 "$DB" "SELECT COUNT(DISTINCT order_ref) FROM sales_orders WHERE came_by = 'notification'")
expect_eq "$n_ref" "$placed" "orders in the reference download"
expect_eq "$n_db" "$placed" "orders stored by notifications"
sqlite3 "$DB" "ATTACH '$REF' AS ref;
  WITH a AS (SELECT o.order_ref r, o.split_no s, o.stage st, COALESCE(o.branch,'') b, COALESCE(o.gl_account,'') gl,
                    COALESCE(c.email,'') cu,
                    (SELECT group_concat(l.sku || 'x' || l.qty, ',') FROM (SELECT * FROM main.sales_order_lines
                      WHERE order_id = o.id ORDER BY line_no) l) ln
             FROM main.sales_orders o LEFT JOIN main.customers c ON c.id = o.customer_id),
       b AS (SELECT o.order_ref r, o.split_no s, o.stage st, COALESCE(o.branch,'') b, COALESCE(o.gl_account,'') gl,
                    COALESCE(c.email,'') cu,
                    (SELECT group_concat(l.sku || 'x' || l.qty, ',') FROM (SELECT * FROM ref.sales_order_lines
                      WHERE order_id = o.id ORDER BY line_no) l) ln
             FROM ref.sales_orders o LEFT JOIN ref.customers c ON c.id = o.customer_id)
  SELECT 'order ' || COALESCE(a.r, b.r) || '#' || COALESCE(a.s, b.s) || ': got ' ||
         COALESCE(a.st || ' ' || a.b || ' gl ' || a.gl || ' ' || a.cu || ' ' || a.ln, 'nothing') || '; reference ' ||
         COALESCE(b.st || ' ' || b.b || ' gl ' || b.gl || ' ' || b.cu || ' ' || b.ln, 'nothing')
  FROM a FULL JOIN b ON a.r = b.r AND a.s = b.s
  WHERE a.r IS NULL OR b.r IS NULL OR a.st <> b.st OR a.b <> b.b OR a.gl <> b.gl OR a.cu <> b.cu OR a.ln <> b.ln
  LIMIT 20;" > "$T/decisions.out" 2>&1
grep -q '[^[:space:]]' "$T/decisions.out" && bad "decisions differ from the uninterrupted download:
$(head -c 3000 "$T/decisions.out")" || ok
r=$(sqlite3 "$DB" "SELECT state || ' ' || COUNT(*) FROM notifications WHERE state <> 'done' GROUP BY state")
expect_eq "$r" "" "notifications not done"
r=$(sqlite3 "$DB" "SELECT COUNT(*) FROM notifications n WHERE NOT EXISTS (SELECT 1 FROM sales_orders o
                   WHERE o.order_ref = n.order_ref)")
expect_eq "$r" 0 "notifications done without their order stored"
# a message deleted before its order was committed and then killed would leave that order
# missing above (the download is off, and a copy Amazon sent again is only ever marked
# done after a commit); duplicates must have happened for that to mean something
dups=$(sqlite3 "$DB" "SELECT COALESCE(SUM(copies), 0) FROM notifications")
echo "crash_notify: $dups repeated deliveries recognised"
[ "$dups" -gt 0 ] && ok || bad "the simulator delivered no duplicate: the test proves less than it says"
finish
