#!/usr/bin/env bash
# routing_grid.sh: a bad routing edit is refused and routes nothing. On the demo (its
# order 250-0000007-0000007, shipped to Australia, went to Sydney by grid row 3), an emptied row, a
# misspelled key and "USA" are refused, each naming the row, the field and the value;
# the stored grid is unchanged and a dry run of the rules moves no order. A grid with an
# empty row stored before this check holds the orders it would have caught, with the
# reason, instead of moving them; "any": true is the explicit catch-all.
. "$SB_SOURCE_DIR/tests/lib.sh"
$SB demo --dir "$T/demo" >"$T/demo.log" 2>&1 || { bad "demo: $(tail -5 "$T/demo.log")"; finish; exit 1; }
export SELLERBRIDGE_DB=$T/demo/sellerbridge.db
AU=250-0000007-0000007
expect_eq "$(sqlite3 "$SELLERBRIDGE_DB" "SELECT branch FROM sales_orders WHERE order_ref = '$AU'")" Sydney "AU order after the demo"
before=$($SB settings get orders.routing.grid)

# the dashboard's emptied row: no countries, no states, no shipping option
expect_rc 1 $SB settings set orders.routing.grid '[{"countries":[],"states":[],"shipping":[],"branch":"NJ Warehouse","backups":[]},{"countries":["AU"],"branch":"Sydney"}]'
expect_err 'orders.routing.grid: row 1 names no countries, states or shipping options, so it would catch every merchant-fulfilled order'
expect_err '"any": true'
expect_rc 1 $SB settings set orders.routing.grid '[{"country":["AU"],"branch":"Sydney"}]'
expect_err "row 1: unknown key 'country' (allowed keys: countries, states, shipping, branch, backups, any)"
expect_rc 1 $SB settings set orders.routing.grid '[{"countries":["AU"],"branch":"Sydney"},{"countries":["USA"],"branch":"LA Warehouse"}]'
expect_err "row 2: countries: 'USA' is not an ISO 3166-1 alpha-2 country code"
expect_eq "$($SB settings get orders.routing.grid)" "$before" "grid after refused edits"
expect_rc 0 $SB rules dry-run default
expect_out "0 would change, 0 would be held"
expect_eq "$(sqlite3 "$SELLERBRIDGE_DB" "SELECT branch FROM sales_orders WHERE order_ref = '$AU'")" Sydney "AU order after refused edits"

# shipping options in the page's spelling are stored as Amazon's
expect_rc 0 $SB settings set orders.routing.grid '[{"countries":["AU"],"branch":"Sydney"},{"countries":["US"],"shipping":["Expedited","NextDay"],"branch":"NJ Warehouse"},{"any":true,"branch":"LA Warehouse"}]'
expect_out '"shipping":["EXPEDITED","NEXT_DAY"]'
expect_out '"any":true'
expect_rc 0 $SB rules dry-run default
expect_out "$AU"
grep "$AU" "$T/out" | grep -q Sydney && ok || bad "AU order not kept at Sydney: $(cat "$T/out")"
grep -A1 "$AU" "$T/out" | grep -- "->" | grep -q "Sydney.*grid row 1" && ok || bad "AU order not routed by row 1: $(cat "$T/out")"

# a grid stored before the check (an empty row first): the orders are held, not moved
sqlite3 "$SELLERBRIDGE_DB" "UPDATE settings SET value = '[{\"branch\":\"NJ Warehouse\"},{\"countries\":[\"AU\"],\"branch\":\"Sydney\"}]' WHERE name = 'orders.routing.grid'"
expect_rc 0 $SB rules dry-run default
expect_out "$AU  error: default/route.lua"
expect_out "row 1 names no countries, states or shipping options"
expect_out "0 would change"
grep -q "NJ Warehouse" "$T/out" && bad "an order would move to the empty row's branch: $(cat "$T/out")" || ok
finish
