#!/usr/bin/env bash
# notify_demo.sh: near-real-time orders end to end, across processes, on the demo: `demo
# --serve` keeps the simulator and the engine running; the seller points notifications at
# the simulator's own SQS queue, sets AWS keys and runs `notifications setup` (the
# simulator's Notifications API and its queue's attributes); a buyer then places an order
# on the simulator, whose ORDER_CHANGE goes into the queue, and the running engine's
# notifications job stores it (searchOrders could not list it for 2 minutes): came_by
# notification, `notifications status` arriving with its lag, the download's window
# untouched. The wait for the engine is bounded and looks at the database, not at time.
. "$SB_SOURCE_DIR/tests/lib.sh"
cd "$T" || exit 1
$SB demo --dir "$T/d" --serve --listen 127.0.0.1:0 > "$T/serve.out" 2> "$T/serve.err" & pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
for i in $(seq 600); do grep -q "the engine runs" "$T/serve.out" && break; sleep 0.05; done
grep -q "the engine runs" "$T/serve.out" && ok || bad "demo --serve did not start: $(tail -5 "$T/serve.err")"
sim=$(sed -n 's/^serving: Amazon simulator at \(http[^ ]*\).*/\1/p' "$T/serve.out")
[ -n "$sim" ] && ok || bad "no simulator URL in: $(cat "$T/serve.out")"
export SELLERBRIDGE_DB="$T/d/sellerbridge.db"

expect_rc 0 $SB settings set notifications.queue_url "$sim/000000000000/sellerbridge-sim"
echo AKIDDEMOREADER0001 | $SB credentials set aws.access_key_id > /dev/null 2>&1
echo 'demo-reader-secret-key-0123456789' | $SB credentials set aws.secret_access_key > /dev/null 2>&1
expect_rc 0 $SB notifications setup
expect_out "queue         OK"
expect_out "destination   OK (changed)"
expect_out "subscription  OK (changed)  ORDER_CHANGE subscription "
expect_out "notifications are on for"
grep -q "demo-reader-secret-key" "$T/out" "$T/err" "$T/serve.out" "$T/serve.err" && bad "the AWS secret was printed" || ok

# a buyer places an order on Amazon (the simulator): its notification brings it
order=111-0000090-0000090
curl -sf -m 10 -X POST "$sim/_sim/orders" --data "{\"orderId\":\"$order\",\"salesChannel\":{\"marketplaceId\":\"ATVPDKIKX0DER\"},
  \"fulfillment\":{\"fulfillmentStatus\":\"UNSHIPPED\",\"fulfilledBy\":\"MERCHANT\"},
  \"buyer\":{\"buyerName\":\"Dana Reed\",\"buyerEmail\":\"dana@example.com\"},
  \"recipient\":{\"deliveryAddress\":{\"name\":\"Dana Reed\",\"addressLine1\":\"9 Elm St\",\"city\":\"Austin\",
    \"stateOrRegion\":\"TX\",\"postalCode\":\"73301\",\"countryCode\":\"US\"}},
  \"orderItems\":[{\"orderItemId\":\"90001\",\"quantityOrdered\":1,\"product\":{\"sellerSku\":\"MUG-BLK-12\"}}]}" > /dev/null \
  && ok || bad "placing the order on the simulator"
stored=""
for i in $(seq 600); do      # at most 60 s; the engine reads the queue with 20 s long polls
  stored=$(command sqlite3 -cmd ".timeout 2000" "$SELLERBRIDGE_DB" "SELECT came_by || ' ' || stage || ' ' || branch FROM sales_orders WHERE order_ref = '$order'")
  [ -n "$stored" ] && break
  sleep 0.1
done
expect_eq "$stored" "notification open LA Warehouse" "the order, how it came, its stage and branch"
expect_rc 0 $SB notifications status --json
python3 - "$T/out" <<'PY' && ok || bad "notifications status: $(head -c 800 "$T/out")"
import json, sys
d = json.loads(open(sys.argv[1]).read())
assert d["health"] == "arriving", d["health"]
assert d["orders_by"]["notification"] == 1, d["orders_by"]
assert d["notifications"]["done"] >= 1 and d["notifications"]["poison"] == 0, d["notifications"]
assert d["notifications"]["last_lag_ms"] is not None and d["notifications"]["last_lag_ms"] < 60000, d["notifications"]
PY
expect_rc 0 $SB notifications status
expect_out "notifications demo: arriving"
expect_out "orders by      notification 1"
finish
