#!/usr/bin/env bash
# import.sh: master data CSV import. The sample set imports; each kind of bad file is
# refused whole with file:line, column and reason, and the database is left as it was.
. "$SB_SOURCE_DIR/tests/lib.sh"
D=$SRC/examples/data
$SB init >/dev/null
for k in branches customer_groups gl_accounts products boms stock customers orders; do
  expect_rc 0 $SB import $k "$D/$k.csv"
done
expect_rc 0 $SB export products
expect_eq "$(wc -l < "$T/out")" 7 "exported products (header + 6)"
snapshot() { sqlite3 "$SELLERBRIDGE_DB" ".dump" | grep -v '^INSERT INTO sync_state' | md5sum; }
before=$(snapshot)

# bad rows: every problem named, nothing imported (row 2 is good but must not land)
cat > "$T/products.csv" <<'CSV'
sku,name,buffer_stock,latency,order_type,batch_tracked
NEW-1,A good new product,1,3,standard,no
NEW-2,Bad buffer,-3,,standard,no
NEW-3,Bad latency,0,31,standard,no
NEW-4,Bad type,0,,bundle,maybe
CSV
expect_rc 1 $SB import products "$T/products.csv"
expect_err "products.csv:3: column 'buffer_stock': '-3' must be 0 or more"
expect_err "products.csv:4: column 'latency': '31' is not a handling time from 1 to 30 days"
expect_err "products.csv:5: column 'order_type': 'bundle' is not an order type (allowed: standard, kit)"
expect_err "products.csv:5: column 'batch_tracked': 'maybe' is not yes/no"
expect_err "4 problems; nothing was imported"
expect_eq "$(snapshot)" "$before" "database after bad rows"

# missing required column, unknown column
printf 'name,asin\nX,B00\n' > "$T/p2.csv"
expect_rc 1 $SB import products "$T/p2.csv"
expect_err "p2.csv:1: missing required column 'sku'"
printf 'sku,colour\nX,red\n' > "$T/p3.csv"
expect_rc 1 $SB import products "$T/p3.csv"
expect_err "p3.csv:1: unknown column 'colour'"

# wrong encoding (Latin-1 bytes)
printf 'name,country,state,address\nM\xfcnchen,DE,,Hauptstr. 1\n' > "$T/b.csv"
expect_rc 1 $SB import branches "$T/b.csv"
expect_err "b.csv:2: column 1: not valid UTF-8 text (save the file as UTF-8)"

# duplicate keys within the file
printf 'sku,branch,on_hand\nMUG-BLK-12,Sydney,5\nMUG-BLK-12,Sydney,6\n' > "$T/s.csv"
expect_rc 1 $SB import stock "$T/s.csv"
expect_err "s.csv:3: duplicate key sku 'MUG-BLK-12', branch 'Sydney'"

# references that do not exist; a quoted field over two lines keeps line numbers right
printf 'sku,branch,on_hand\nMUG-BLK-12,Sydny,5\n' > "$T/s2.csv"
expect_rc 1 $SB import stock "$T/s2.csv"
expect_err "s2.csv:2: column 'branch': branch 'Sydny' does not exist"
printf 'name,country,state,address\nPerth,AU,WA,"1 Long\nRoad"\nX,Australia,,\n' > "$T/b2.csv"
expect_rc 1 $SB import branches "$T/b2.csv"
expect_err "b2.csv:4: column 'country': 'Australia' is not a two-letter country code"
printf 'name,country\n"Perth,AU\n' > "$T/b3.csv"
expect_rc 1 $SB import branches "$T/b3.csv"
expect_err "malformed CSV"
printf 'kit_sku,component_sku,qty\nMUG-BLK-12,SPOON-SET-4,1\n' > "$T/bom.csv"
expect_rc 1 $SB import boms "$T/bom.csv"
expect_err "product 'MUG-BLK-12' is not a kit"
: > "$T/empty.csv"
expect_rc 1 $SB import branches "$T/empty.csv"
expect_err "the file is empty"
expect_rc 1 $SB import widgets "$D/branches.csv"
expect_err "'widgets' is not a kind of data"
expect_eq "$(snapshot)" "$before" "database after every refused file"

# re-import updates instead of duplicating; header order and case do not matter
printf 'ON_HAND,Branch,SKU\n7,Sydney,MUG-BLK-12\n' > "$T/s3.csv"
expect_rc 0 $SB import stock "$T/s3.csv"
expect_out "1 row imported (0 new, 1 updated)"
expect_eq "$(sqlite3 "$SELLERBRIDGE_DB" "SELECT on_hand FROM stock JOIN products p ON p.id = product_id JOIN branches b ON b.id = branch_id WHERE sku='MUG-BLK-12' AND b.name='Sydney'")" 7.0 "stock updated"
expect_rc 0 $SB import orders "$D/orders.csv"
expect_eq "$(sqlite3 "$SELLERBRIDGE_DB" "SELECT count(*) FROM sales_orders WHERE source='import'")/$(sqlite3 "$SELLERBRIDGE_DB" "SELECT count(*) FROM sales_order_lines")" "3/4" "orders re-imported without duplicates"
# export -> import round trip is stable
$SB export customers > "$T/c.csv"
expect_rc 0 $SB import customers "$T/c.csv"
expect_out "3 rows imported (0 new, 3 updated)"
finish
