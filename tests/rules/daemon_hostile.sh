# daemon_hostile.sh: `sellerbridge run` with a rule pack whose route hook never returns.
# Each order is held with the time limit in its message and the daemon goes on; while
# such rules run, the dashboard answers and another connection can take the database's
# write lock at once (no transaction is held while a rule runs); SIGTERM during a rule
# stops it where it is: the order it was deciding is neither stored nor held, and the
# daemon ends. The stop time is printed; the bound asserted is one that catches a hang,
# not a clock (tests/sync/test_orders_tx pins the same things with an injected clock).
. "$SB_SOURCE_DIR/tests/lib.sh"
. "$SRC/tests/crash/setup.sh"
DB=$T/hostile.db
sim_start 5 40
db_prepare "$DB" 1000
mkdir -p "$T/pack"
cat > "$T/pack/route.lua" <<'EOF'
return function(order, ctx)
  while true do end
end
EOF
set_db() { SELLERBRIDGE_DB=$DB $SB settings set "$1" "$2" >/dev/null || bad "settings set $1 $2"; }
set_db rules.pack "$T/pack"
set_db rules.time_ms 100
set_db rules.instructions 100000000

held() { command sqlite3 -cmd ".timeout 2000" "$DB" \
  "SELECT count(*) FROM sales_orders WHERE stage = 'rule_error' AND rule_error LIKE '%rule exceeded its time limit (100 ms)%'"; }

# start_run LOG: the daemon with its dashboard on a free port; sets $RUN_PID and $URL
start_run() {
  SELLERBRIDGE_DB=$DB SELLERBRIDGE_LOG=info $SB run --listen 127.0.0.1:0 > "$T/run.out" 2> "$1" &
  RUN_PID=$!
  local i
  for i in $(seq 200); do grep -q "web dashboard listening" "$1" && break; sleep 0.05; done
  URL=$(sed -n 's/.*web dashboard listening url=\([^ ]*\).*/\1/p' "$1" | head -1)
  [ -n "$URL" ] || { bad "the daemon's dashboard did not start: $(tail -3 "$1")"; finish; exit 1; }
}

# stop_run LOG: SIGTERM, and how long the daemon took to end (printed; bounded at 15 s)
stop_run() {
  local t0 t1 i
  t0=$(now_ms)
  kill -TERM "$RUN_PID"
  for i in $(seq 300); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.05; done
  t1=$(now_ms)
  if kill -0 "$RUN_PID" 2>/dev/null; then bad "the daemon ignored SIGTERM for 15 s"; kill -KILL "$RUN_PID"; fi
  wait "$RUN_PID"; local rc=$?
  expect_eq "$rc" 0 "run exit code after SIGTERM"
  echo "SIGTERM to exit: $((t1 - t0)) ms ($2)"
  grep -q "engine stopped" "$1" && ok || bad "no clean stop line: $(tail -3 "$1")"
}

# 1. time limits: orders are held one after another; the engine stays usable meanwhile
start_run "$T/run1.err"
tok=$(cat "$DB.web-token")
for i in $(seq 600); do [ "$(held)" -ge 3 ] && break; sleep 0.05; done
[ "$(held)" -ge 3 ] && ok || bad "no orders held for the time limit: $(tail -5 "$T/run1.err")"
locked=0
for i in 1 2 3 4 5; do
  # a short wait: the engine holds the lock only for an order's own commit
  command sqlite3 -cmd ".timeout 300" "$DB" "BEGIN IMMEDIATE; ROLLBACK;" 2>>"$T/lock.err" || locked=$((locked + 1))
  code=$(curl -s -m 5 -o "$T/summary.json" -w '%{http_code}' -H "Authorization: Bearer $tok" "${URL}api/v1/summary")
  expect_eq "$code" 200 "dashboard summary while a rule loops"
  sleep 0.1
done
expect_eq "$locked" 0 "write lock refused while rules ran ($(head -c 300 "$T/lock.err" 2>/dev/null))"
jq -e . "$T/summary.json" >/dev/null && ok || bad "summary is not JSON: $(head -c 300 "$T/summary.json")"
stop_run "$T/run1.err" "time limits"
n=$(held)
[ "$n" -ge 3 ] && ok || bad "held orders went away after the stop: $n"

# 2. a stop inside a rule: with a 10 s limit the rule is still running at SIGTERM
set_db rules.time_ms 10000
before=$(command sqlite3 "$DB" "SELECT count(*) FROM sales_orders")
curl -sf -X DELETE "$SIM_URL/_sim/requests" >/dev/null || bad "clearing the simulator's request log"
start_run "$T/run2.err"
# the page is answered, so the first order's rule starts now and runs 100M instructions
for i in $(seq 400); do
  [ "$(sim_get /_sim/requests | jq '[.[] | select(.op == "searchOrders")] | length')" -ge 1 ] && break
  sleep 0.025
done
stop_run "$T/run2.err" "inside a rule"
grep -q "the engine is stopping" "$T/run2.err" && ok || bad "the stop did not reach the rule: $(tail -5 "$T/run2.err")"
after=$(command sqlite3 "$DB" "SELECT count(*) FROM sales_orders")
expect_eq "$after" "$before" "orders stored or held by a stopped rule"
expect_eq "$(command sqlite3 "$DB" "SELECT count(*) FROM sales_orders WHERE rule_error LIKE '%stopp%'")" 0 "orders held for the stop"
sim_stop
finish
