#!/usr/bin/env bash
# valgrind.sh BUILD_DIR: the integration tests under valgrind memcheck. BUILD_DIR must be a
# build without the sanitizers (they cannot run under valgrind), e.g.
#   cmake -S . -B build-vg -DCMAKE_BUILD_TYPE=Debug && cmake --build build-vg -j2 && tests/valgrind.sh build-vg
# Any memcheck error or definite leak fails the run.
set -u
B=${1:?usage: tests/valgrind.sh BUILD_DIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)
export SB_SOURCE_DIR=$SRC SB_BIN=$B/sellerbridge SB_SYNC_CASES=$SRC/tests/sync/cases
export SB_SETTINGS_CASES=$SRC/tests/store/settings_cases.txt
vg="valgrind --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite --track-fds=no -q"
pass=0; fail=0
for t in tests/sync/test_orders tests/sync/test_sched tests/jobs/test_jobs tests/store/test_store \
         tests/store/test_settings tests/store/test_secrets tests/rules/test_rules_cases tests/spapi/test_spapi; do
  [ -x "$B/$t" ] || { echo "missing $B/$t"; fail=$((fail+1)); continue; }
  if (cd "$(dirname "$B/$t")" && $vg "./$(basename "$t")" > /tmp/vg.$$.out 2>&1); then
    echo "ok   $t"; pass=$((pass+1))
  else
    echo "FAIL $t"; tail -30 /tmp/vg.$$.out; fail=$((fail+1))
  fi
done
rm -f /tmp/vg.$$.out
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
