# setup.sh: sourced by the crash tests (after tests/lib.sh). Starts `sellerbridge sim`
# as its own process with generated orders and prepares a database against it:
#   sim_start SEED ORDERS [SCENARIO]   sets $SIM_URL, $SIM_PID
#   db_prepare DB STOCK                 init + sample data + the generator's 200 SKUs with
#                                       STOCK on hand at LA/NJ/Sydney, every setting below
#   sim_get PATH                        GET an admin path of the simulator
# Everything is reproducible from the seed.
MKTS=ATVPDKIKX0DER,A2EUQ1WTGCTBG2,A39IBJ37TRP1C6,A1F83G8C2ARO7P

sim_start() {
  local seed=$1 n=$2 scen=${3:-}
  : > "$T/sim.out"
  if [ -n "$scen" ]; then
    $SB sim --generate "$n" --seed "$seed" --unthrottled --scenario "$scen" > "$T/sim.out" 2> "$T/sim.err" &
  else
    $SB sim --generate "$n" --seed "$seed" --unthrottled > "$T/sim.out" 2> "$T/sim.err" &
  fi
  SIM_PID=$!
  local i
  for i in $(seq 400); do grep -q '^listening on ' "$T/sim.out" && break; sleep 0.05; done
  SIM_URL=$(sed -n 's/^listening on //p' "$T/sim.out")
  if [ -z "$SIM_URL" ]; then echo "FAIL: simulator did not start: $(cat "$T/sim.err")" >&2; exit 1; fi
}
sim_stop() { [ -n "${SIM_PID:-}" ] && kill -TERM "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null; SIM_PID=; }
sim_get() { curl -sf "$SIM_URL$1"; }

# db_prepare DB STOCK: a database configured against $SIM_URL
db_prepare() {
  local db=$1 stock=$2 D=$SRC/examples/data k
  local back; back=$(date -u -d '40 days ago' +%Y-%m-%dT%H:%M:%SZ)
  SELLERBRIDGE_DB=$db $SB init --name crash >/dev/null || { echo "FAIL: init $db" >&2; exit 1; }
  for k in branches customer_groups gl_accounts products boms stock customers; do
    SELLERBRIDGE_DB=$db $SB import $k "$D/$k.csv" >/dev/null || { echo "FAIL: import $k" >&2; exit 1; }
  done
  # the generator sells SKU-0000 .. SKU-0199: make them products with some stock
  sqlite3 "$db" "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 199)
    INSERT INTO products(sku, name) SELECT printf('SKU-%04d', i), 'sim product ' || i FROM n;
    INSERT INTO stock(product_id, branch_id, on_hand) SELECT p.id, b.id,
      CASE b.name WHEN 'LA Warehouse' THEN $stock WHEN 'Sydney' THEN $stock / 2 ELSE $stock / 3 END
      FROM products p, branches b WHERE p.sku LIKE 'SKU-%' AND b.name IN ('LA Warehouse','NJ Warehouse','Sydney');" \
    || { echo "FAIL: generator products" >&2; exit 1; }
  local kv
  while IFS='=' read -r k kv; do
    [ -n "$k" ] || continue
    SELLERBRIDGE_DB=$db $SB settings set "$k" "$kv" >/dev/null || { echo "FAIL: settings set $k $kv" >&2; exit 1; }
  done <<SETTINGS
api.endpoint=$SIM_URL
api.lwa_endpoint=$SIM_URL/auth/o2/token
api.rate_scale=1000000
integration.marketplaces=$MKTS
orders.last_updated=$back
orders.statuses=PENDING_AVAILABILITY,PENDING,UNSHIPPED,PARTIALLY_SHIPPED,SHIPPED,CANCELLED,UNFULFILLABLE
additional.mf_branch=LA Warehouse
orders.fba_branch=Amazon FBA
orders.customer_group=Amazon Retail
orders.gl_account=4010
orders.routing.enabled=true
orders.routing.grid=[{"countries":["AU"],"branch":"Sydney","backups":["LA Warehouse"]},{"countries":["US"],"states":["NY","FL"],"branch":"NJ Warehouse","backups":["LA Warehouse"]}]
SETTINGS
  echo "$SB_SIM_CLIENT_ID_" | SELLERBRIDGE_DB=$db $SB credentials set lwa.client_id >/dev/null &&
  echo "sim-demo-client-secret-0123456789" | SELLERBRIDGE_DB=$db $SB credentials set lwa.client_secret >/dev/null &&
  echo "Atzr|sim-demo-refresh-token-0123456789" | SELLERBRIDGE_DB=$db $SB credentials set lwa.refresh_token >/dev/null ||
    { echo "FAIL: credentials" >&2; exit 1; }
}
SB_SIM_CLIENT_ID_=amzn1.application-oa2-client.simdemo

now_ms() { date +%s%3N; }
# random_ms MAX: a uniform delay in 0..MAX ms from bash's seeded $RANDOM
random_ms() { echo $(( (RANDOM * 32768 + RANDOM) % ($1 + 1) )); }
ms_to_s() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# run_killed DB MS CMD...: runs `sellerbridge CMD` on DB and SIGKILLs it after MS ms if it
# still runs (a bounded poll: returns as soon as it ends). `wait` reaps it, so it is gone
# (and its locks released) when this returns. Sets $RC (137 = killed), $RUN_MS, and leaves
# its output in $T/run.out, $T/run.err.
run_killed() {
  local db=$1 ms=$2 t0 pid; shift 2
  {
    t0=$(now_ms)
    SELLERBRIDGE_DB=$db $SB "$@" > "$T/run.out" 2> "$T/run.err" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null && [ $(( $(now_ms) - t0 )) -lt "$ms" ]; do sleep 0.005; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid"; RC=$?
    RUN_MS=$(( $(now_ms) - t0 ))
  } 2>/dev/null
}

# consistent DB WHAT: the invariants that must hold after any kill: the file is sound,
# reservations equal open lines, every order once. Counts a failure with WHAT.
consistent() {
  local db=$1 what=$2 r
  r=$(sqlite3 "$db" "PRAGMA quick_check" 2>&1)
  [ "$r" = ok ] && ok || bad "$what: quick_check: $r"
  r=$(sqlite3 "$db" "PRAGMA foreign_key_check" 2>&1)
  [ -z "$r" ] && ok || bad "$what: foreign_key_check: $r"
  SELLERBRIDGE_DB=$db $SB orders check > "$T/check.out" 2>&1 && ok || bad "$what: orders check: $(head -c 400 "$T/check.out")"
  r=$(sqlite3 "$db" "SELECT COUNT(*) - COUNT(DISTINCT order_ref || '#' || split_no) FROM sales_orders")
  [ "$r" = 0 ] && ok || bad "$what: $r duplicate order rows"
}

# compare_decisions DB REF: per order, the decisions of DB equal those of the reference
# database REF (one uninterrupted sync of the same scenario), and so does the order's JSON
# as Amazon sent it. Prints mismatches. Orders listed in $T/dispatched.txt may have moved
# from open to dispatched (and Amazon's JSON of them changed with their packages).
compare_decisions() {
  local db=$1 ref=$2
  : >> "$T/dispatched.txt"
  sqlite3 "$db" "ATTACH '$ref' AS ref; CREATE TEMP TABLE disp(ref TEXT);" \
    ".import $T/dispatched.txt disp" "
    WITH a AS (SELECT o.order_ref r, o.split_no s, o.stage st, COALESCE(o.branch,'') b, COALESCE(o.gl_account,'') gl,
                      COALESCE(o.distribution_branch,'') db, COALESCE(o.invoice_no,'') inv,
                      COALESCE(c.email,'') || '|' || COALESCE(c.name,'') || '|' || COALESCE(c.channel_customer_id,'') cu,
                      (SELECT group_concat(l.sku || 'x' || l.qty || '@' || COALESCE(l.product_id,''), ',') FROM
                        (SELECT * FROM main.sales_order_lines WHERE order_id = o.id ORDER BY line_no) l) ln,
                      (SELECT r.raw_json FROM main.sales_orders_raw r WHERE r.order_id = o.id) rj
               FROM main.sales_orders o LEFT JOIN main.customers c ON c.id = o.customer_id),
         b AS (SELECT o.order_ref r, o.split_no s, o.stage st, COALESCE(o.branch,'') b, COALESCE(o.gl_account,'') gl,
                      COALESCE(o.distribution_branch,'') db, COALESCE(o.invoice_no,'') inv,
                      COALESCE(c.email,'') || '|' || COALESCE(c.name,'') || '|' || COALESCE(c.channel_customer_id,'') cu,
                      (SELECT group_concat(l.sku || 'x' || l.qty || '@' || COALESCE(l.product_id,''), ',') FROM
                        (SELECT * FROM ref.sales_order_lines WHERE order_id = o.id ORDER BY line_no) l) ln,
                      (SELECT r.raw_json FROM ref.sales_orders_raw r WHERE r.order_id = o.id) rj
               FROM ref.sales_orders o LEFT JOIN ref.customers c ON c.id = o.customer_id)
    SELECT 'order ' || COALESCE(a.r, b.r) || '#' || COALESCE(a.s, b.s) || ': got ' ||
           COALESCE(a.st || ' ' || a.b || ' gl ' || a.gl || ' inv ' || a.inv || ' cust ' || a.cu || ' lines ' || a.ln, 'nothing') ||
           '; reference ' ||
           COALESCE(b.st || ' ' || b.b || ' gl ' || b.gl || ' inv ' || b.inv || ' cust ' || b.cu || ' lines ' || b.ln, 'nothing')
    FROM a FULL JOIN b ON a.r = b.r AND a.s = b.s
    WHERE a.r IS NULL OR b.r IS NULL OR a.b <> b.b OR a.gl <> b.gl OR a.db <> b.db OR a.cu <> b.cu OR a.ln <> b.ln
       OR a.inv <> b.inv
       OR (a.rj IS NOT b.rj AND a.r NOT IN (SELECT ref FROM disp))
       OR (a.st <> b.st AND NOT (a.st = 'dispatched' AND b.st = 'open' AND a.r IN (SELECT ref FROM disp)))
    LIMIT 20;" > "$T/decisions.out" 2>&1
  grep -q '[^[:space:]]' "$T/decisions.out" && bad "decisions differ from the uninterrupted reference:
$(head -c 3000 "$T/decisions.out")" || ok
}
