#!/usr/bin/env bash
# demo_serve.sh: the demo is not a dead end (issue 18 item 5). Without --serve it says the
# simulator stops with it and how to keep it; `demo --serve` keeps the simulator, the
# engine and the dashboard running on the demo database, so a person's `sync orders`,
# `status`, `sync stock` (its products have listings) and the dashboard work on it, and
# SIGTERM ends it cleanly.
. "$SB_SOURCE_DIR/tests/lib.sh"
cd "$T"
expect_rc 0 $SB demo --dir "$T/d1"
expect_out "the simulator stops with the demo: \`sellerbridge demo --serve\` keeps it"

$SB demo --dir "$T/d2" --serve --listen 127.0.0.1:0 > "$T/serve.out" 2> "$T/serve.err" &
pid=$!
for i in $(seq 400); do grep -q "the engine runs; Ctrl-C stops it" "$T/serve.out" && break; sleep 0.05; done
grep -q "the engine runs" "$T/serve.out" && ok || bad "demo --serve did not start: $(tail -5 "$T/serve.out") $(tail -5 "$T/serve.err")"
grep -q "^serving: Amazon simulator at http://127.0.0.1:" "$T/serve.out" && ok || bad "no simulator line: $(tail -5 "$T/serve.out")"
url=$(sed -n 's/^dashboard at \(http[^ ]*\) .*/\1/p' "$T/serve.out")
DB="$T/d2/sellerbridge.db"
# the demo's database keeps working beside the engine
expect_rc 0 $SB --db "$DB" sync orders
expect_rc 0 $SB --db "$DB" status
expect_out "engine: running (pid $pid)"
# the demo's products have listings on its simulator: the stock upload goes through
# (sent by this command or already by the engine beside it), none refused
expect_rc 0 $SB --db "$DB" sync stock
expect_rc 0 $SB --db "$DB" --json stock status --all
python3 -c "import json; d=json.load(open('$T/out')); a=[i['sku'] for i in d['items'] if i['status']=='accepted']; assert len(a)==6 and d['counts'].get('failed',0)==0, d" \
  && ok || bad "demo stock upload: $(head -c 600 "$T/out")"
code=$(curl -s -o "$T/st.json" -w '%{http_code}' -H "Authorization: Bearer $(cat "$DB.web-token")" "${url}api/v1/status")
expect_eq "$code" 200 "dashboard status answer"
grep -q '"running":true' "$T/st.json" && ok || bad "dashboard status: $(head -c 300 "$T/st.json")"
kill -TERM $pid; wait $pid; rc=$?
expect_eq "$rc" 0 "demo --serve exit code after SIGTERM"
expect_rc 0 $SB --db "$DB" status
expect_out "engine: not running"
finish
