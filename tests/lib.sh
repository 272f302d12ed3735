# lib.sh: shared helpers for the shell tests: a scratch folder, the binary as $SB,
# and checks that print what was expected and what came instead.
set -u
SB=${SB_BIN:?SB_BIN must name the sellerbridge binary}
SRC=${SB_SOURCE_DIR:?}
T=$(mktemp -d "${TMPDIR:-/tmp}/sbtest.XXXXXX")
trap 'rm -rf "$T"' EXIT
export SELLERBRIDGE_DB=$T/sb.db SELLERBRIDGE_KEY_FILE=$T/sb.key SELLERBRIDGE_LOG=warn
pass=0; fail=0
# the sqlite3 shell waits for a lock like the engine does (5 s busy timeout there) instead
# of failing at once when a check meets a process that is still finishing
sqlite3() { command sqlite3 -cmd ".timeout 10000" "$@"; }
ok()   { pass=$((pass+1)); }
bad()  { fail=$((fail+1)); echo "FAIL: $*" >&2; }
# expect_rc CODE CMD...: runs CMD, output in $T/out and $T/err
expect_rc() {
  local want=$1; shift
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  if [ "$got" = "$want" ]; then ok; else bad "$* -> exit $got, expected $want; stderr: $(head -c 600 "$T/err")"; fi
}
expect_out() { grep -qF -- "$1" "$T/out" && ok || bad "stdout lacks '$1': $(head -c 600 "$T/out")"; }
expect_err() { grep -qF -- "$1" "$T/err" && ok || bad "stderr lacks '$1': $(head -c 600 "$T/err")"; }
expect_eq()  { [ "$1" = "$2" ] && ok || bad "${3:-value}: got '$1', expected '$2'"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" = 0 ]; }
