#!/usr/bin/env bash
# rules_cli.sh: `sellerbridge rules check|test` on the default pack and every example
# pack, and the exit codes and file:line output for a broken pack.
. "$SB_SOURCE_DIR/tests/lib.sh"

expect_rc 0 "$SB" rules check default
expect_out "default: ok (sha256 "
expect_rc 0 "$SB" rules test default "$SRC/tests/rules/cases"
expect_out " passed, 0 failed"
shopt -s nullglob
for p in "$SRC"/examples/rules/*/; do
  expect_rc 0 "$SB" rules check "$p"
  expect_rc 0 "$SB" rules test "$p"
  expect_out " passed, 0 failed"
done

# a broken pack: every problem named file:line, exit 1
mkdir -p "$T/bad"
printf 'return function(order)\n  return {branch = \n' > "$T/bad/route.lua"
printf 'local x = 1\nreturn 42\n' > "$T/bad/gl.lua"
printf 'return function() end\n' > "$T/bad/routes.lua"
expect_rc 1 "$SB" rules check "$T/bad"
expect_out "route.lua:3:"
expect_out "gl.lua:1: the file must return the hook function"
expect_out "routes.lua:1: not a hook file"

# a case that fails is reported and makes the run fail
mkdir -p "$T/pack/cases"
printf 'return function(order) return {account = "4000"} end\n' > "$T/pack/gl.lua"
cp "$SRC/tests/rules/cases/_base.json" "$T/pack/cases/"
cp "$SRC/tests/rules/cases/gl_default.json" "$T/pack/cases/"
cp "$SRC/tests/rules/cases/route_grid_country.json" "$T/pack/cases/"
expect_rc 1 "$SB" rules test "$T/pack"
expect_out "FAIL gl_default.json: gl_account: expected null, got 4000"
expect_out "ok   route_grid_country.json"
expect_out "1 passed, 1 failed"

expect_rc 2 "$SB" rules frobnicate
finish
