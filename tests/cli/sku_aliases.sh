#!/usr/bin/env bash
# sku_aliases.sh: a SKU of Amazon's that no product has is linked to a product once
# (`products alias`), and every order waiting on it is stored again: its line linked, the
# stock reserved, the hold released; the alias is consulted for later downloads, refused
# when it could never be right, listed, removed. Also the bulk retry by SKU and the
# attention list narrowed by reason and SKU, and the order list by day.
. "$SB_SOURCE_DIR/tests/lib.sh"
cd "$T" || exit 1
expect_rc 0 $SB demo --dir "$T/d"
export SELLERBRIDGE_DB=$T/d/sellerbridge.db
HELD=111-0000009-0000009              # the demo's order with SKU UNKNOWN-SKU-9
q() { sqlite3 "$SELLERBRIDGE_DB" "$1"; }
reserved() { q "SELECT s.reserved FROM stock s JOIN products p ON p.id = s.product_id JOIN branches b ON b.id = s.branch_id
                WHERE p.sku = 'MUG-BLK-12' AND b.name = 'LA Warehouse'"; }

# before: held for the SKU, the attention list narrowed to it says so
expect_rc 0 $SB --json orders attention --reason unknown_sku
python3 - "$T/out" <<'PY' && ok || bad "attention --reason unknown_sku: $(head -c 600 "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["total"] == 1 and d["orders"][0]["order"] == "111-0000009-0000009", d
assert d["orders"][0]["unknown_sku"] == "UNKNOWN-SKU-9", d
assert d["reasons"] == {"unknown_sku": 1, "rule_error": 0, "rejected": 0, "other": 1}, d["reasons"]
assert d["unknown_skus"] == [{"sku": "UNKNOWN-SKU-9", "orders": 1}], d["unknown_skus"]
PY
expect_rc 0 $SB --json orders attention --reason other
python3 -c "import json; d=json.load(open('$T/out')); assert [o['order'] for o in d['orders']] == ['111-0000005-0000005'], d" \
  && ok || bad "attention --reason other: $(head -c 400 "$T/out")"
expect_rc 0 $SB --json orders attention --sku KETTLE-SS
python3 -c "import json; d=json.load(open('$T/out')); assert d['total'] == 1 and d['sku'] == 'KETTLE-SS', d" \
  && ok || bad "attention --sku: $(head -c 400 "$T/out")"
expect_rc 2 $SB orders attention --reason bogus
expect_err "--reason: 'bogus' is not allowed (allowed: unknown_sku, rule_error, rejected, other)"
before=$(reserved)

# refusals name the thing and change nothing
expect_rc 1 $SB products alias UNKNOWN-SKU-9 NO-SUCH-PRODUCT
expect_err "no product has SKU 'NO-SUCH-PRODUCT'"
expect_rc 1 $SB products alias MUG-WHT-12 MUG-BLK-12
expect_err "'MUG-WHT-12' is a product's own SKU"
expect_rc 1 $SB products alias "$(printf 'BAD\tSKU')" MUG-BLK-12
expect_err "channel SKU has a control character at position 4"
expect_rc 1 $SB products alias "$(head -c 121 /dev/zero | tr '\0' x)" MUG-BLK-12
expect_err "is 121 characters long; at most 120"
expect_rc 2 $SB products alias UNKNOWN-SKU-9
expect_err "needs the product's SKU (or --remove)"
expect_rc 1 $SB products alias NEVER-LINKED --remove
expect_err "channel SKU 'NEVER-LINKED' is not an alias"
expect_eq "$(q 'SELECT COUNT(*) FROM sku_aliases')" 0 "aliases after refusals"
expect_eq "$(q "SELECT stage FROM sales_orders WHERE order_ref = '$HELD'")" needs_attention "held order after refusals"

# the link: the order is stored again, its line linked, the stock reserved, released
expect_rc 0 $SB products alias UNKNOWN-SKU-9 MUG-BLK-12
expect_out "Amazon SKU UNKNOWN-SKU-9 linked to product MUG-BLK-12; 1 order waited on it"
expect_out "1 order stored again: lines linked, stock reserved, hooks run; 1 released"
expect_eq "$(q "SELECT stage FROM sales_orders WHERE order_ref = '$HELD'")" open "stage after the link"
expect_eq "$(q "SELECT p.sku FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id
                JOIN products p ON p.id = l.product_id WHERE o.order_ref = '$HELD'")" MUG-BLK-12 "the line's product"
expect_eq "$(reserved)" "$(python3 -c "print(float($before) + 1)")" "MUG-BLK-12 reserved at LA Warehouse"
expect_rc 0 $SB orders check
# the hooks ran again: a rule decision is recorded after the link
expect_eq "$(q "SELECT COUNT(*) > 1 FROM audit WHERE order_ref = '$HELD' AND hook <> 'person'")" 1 "hooks run again"
# linking again to the same product is no error and changes nothing
expect_rc 0 $SB products alias UNKNOWN-SKU-9 MUG-BLK-12
expect_out "0 orders waited on it"
expect_rc 1 $SB products alias UNKNOWN-SKU-9 KETTLE-SS
expect_err "is linked to product 'MUG-BLK-12' already; remove that alias first"
# the stock upload is told to look at the SKU Amazon knows
expect_eq "$(q "SELECT COUNT(*) FROM stock_dirty WHERE sku = 'UNKNOWN-SKU-9'")" 1 "alias marked for the stock upload"

# listed, under --json the web's document
expect_rc 0 $SB products aliases
expect_out "UNKNOWN-SKU-9            MUG-BLK-12"
expect_out "(1 alias)"
expect_rc 0 $SB --json products aliases
python3 -c "import json; d=json.load(open('$T/out')); a=d['aliases']; assert d['total']==1 and a[0]['sku']=='UNKNOWN-SKU-9' and a[0]['product']=='MUG-BLK-12' and a[0]['waiting']==0, d" \
  && ok || bad "aliases document: $(head -c 400 "$T/out")"
expect_rc 0 $SB --json products list --search UNKNOWN
python3 -c "import json; d=json.load(open('$T/out')); p=d['products']; assert d['total']==1 and p[0]['sku']=='MUG-BLK-12' and p[0]['aliases']=='UNKNOWN-SKU-9', d" \
  && ok || bad "products list --search by alias: $(head -c 400 "$T/out")"

# a later order of that SKU links at once (the download's own look-up)
expect_rc 0 $SB orders retry --all --sku UNKNOWN-SKU-9
expect_out "no held order has a line of SKU UNKNOWN-SKU-9"

# removed: lines linked through it stay linked
expect_rc 0 $SB products alias UNKNOWN-SKU-9 --remove
expect_out "no longer linked to product MUG-BLK-12"
expect_eq "$(q 'SELECT COUNT(*) FROM sku_aliases')" 0 "aliases after remove"
expect_eq "$(q "SELECT COUNT(*) FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id
                WHERE o.order_ref = '$HELD' AND l.product_id IS NOT NULL")" 1 "line still linked after remove"

# bulk retry by SKU: a rule error on an order with KETTLE-SS, fixed by a retry of that SKU only
q "UPDATE sales_orders SET stage = 'rule_error', rule_error = 'boom' WHERE order_ref = '111-0000005-0000005'"
expect_rc 0 $SB --json orders attention --reason rule_error --sku KETTLE-SS
python3 -c "import json; d=json.load(open('$T/out')); assert d['total']==1, d" && ok || bad "attention by reason and SKU: $(head -c 300 "$T/out")"
expect_rc 0 $SB orders retry --all --sku KETTLE-SS
expect_out "1 held order now passes the rules and is stored"
expect_eq "$(q "SELECT stage FROM sales_orders WHERE order_ref = '111-0000005-0000005'")" needs_attention "rule error retried (held again for its e-mail)"
expect_rc 2 $SB orders retry 111-0000005-0000005 --sku KETTLE-SS
expect_err "retry takes an order id or --sku, not both"

# the order list by day (Amazon's purchase date)
expect_rc 0 $SB --json orders list --from 2026-11-03 --to 2026-11-03
python3 -c "import json; d=json.load(open('$T/out')); assert sorted(o['order'] for o in d['orders']) == ['111-0000005-0000005', '250-0000007-0000007'], d" \
  && ok || bad "orders list by day: $(head -c 400 "$T/out")"
expect_rc 2 $SB orders list --from 2026-02-30
expect_err "--from: '2026-02-30' is not a day (YYYY-MM-DD"
expect_rc 2 $SB orders list --from 2026-11-04 --to 2026-11-03
expect_err "--from 2026-11-04 is after --to 2026-11-03"
finish
