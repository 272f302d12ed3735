#!/usr/bin/env bash
# demo_packs.sh: the demo data has what the example packs in examples/rules name (their
# branches, GL account and customer group), so each deploys without a word; when the
# database lacks one, `rules use` says which and how to add it (from the pack's `needs`).
. "$SB_SOURCE_DIR/tests/lib.sh"
cd "$T" || exit 1
expect_rc 0 $SB demo --dir "$T/d"
export SELLERBRIDGE_DB=$T/d/sellerbridge.db
for p in us-east-west prime-3pl amazon-business; do
  expect_rc 0 $SB rules use "$SRC/examples/rules/$p"
  expect_out "now uses rule pack"
  expect_eq "$(grep -c warning "$T/err")" 0 "warnings deploying $p on the demo"
done
sqlite3 "$SELLERBRIDGE_DB" "DELETE FROM branches WHERE name IN ('East', 'West'); DELETE FROM gl_accounts WHERE code = '4100'"
expect_rc 0 $SB rules use "$SRC/examples/rules/us-east-west"
expect_err "the pack names branches the database lacks: 'East', 'West' (sellerbridge import branches FILE)"
expect_out "2 things the pack names are missing"
expect_rc 0 $SB rules use "$SRC/examples/rules/amazon-business"
expect_err "the pack names GL accounts the database lacks: '4100' (sellerbridge import gl_accounts FILE)"
finish
