#!/usr/bin/env bash
# exit_codes.sh: the CLI's exit codes (0 ok, 1 failure, 2 usage) and its errors under
# --json: every refusal below is one error document {"error": message, "code": name} on
# standard output and the same message on standard error; a bad option value is a usage
# error that names the option and what is allowed. Cases are data: the table below.
. "$SB_SOURCE_DIR/tests/lib.sh"
cd "$T" || exit 1

# a demo database (its simulator has stopped: Amazon cannot be reached from here on)
expect_rc 0 $SB demo
export SELLERBRIDGE_DB=$T/sellerbridge-demo/sellerbridge.db

# exit | code | a fragment of the message | the command (after `sellerbridge --json`)
while IFS='|' read -r want code msg args; do
  [ -z "$want" ] || [ "${want:0:1}" = "#" ] && continue
  # shellcheck disable=SC2086
  expect_rc "$want" $SB --json $args
  python3 - "$T/out" "$code" "$msg" <<'PY' && ok || bad "--json $args: stdout is not the error document (code $code, '$msg'): $(head -c 400 "$T/out")"
import json, sys
text = open(sys.argv[1]).read()
d = json.loads(text)                      # one document, nothing else
assert set(d) == {"error", "code"}, d
assert d["code"] == sys.argv[2], d
assert sys.argv[3] in d["error"], d
PY
  expect_err "$msg"
done <<'CASES'
2|usage|--stage: 'bogus' is not allowed (allowed: open, needs_attention, rule_error, rejected, dispatched, cancelled)|orders list --stage bogus
2|usage|--limit: 'x' is not allowed (allowed: a whole number from 1 to 500)|orders list --limit x
2|usage|--limit: '0' is not allowed (allowed: a whole number from 1 to 500)|orders list --limit 0
2|usage|--offset: '-3' is not allowed|orders list --offset -3
2|usage|--page: '1.5' is not allowed|orders list --page 1.5
2|usage|--limit needs a value|orders list --limit
2|usage|unknown argument '--colour'|orders list --colour red
2|usage|--limit: '1001' is not allowed (allowed: a whole number from 1 to 1000)|orders attention --limit 1001
2|usage|--limit: 'all' is not allowed (allowed: a whole number from 1 to 5000)|stock status --limit all
2|usage|unknown argument '--stage'|outbox --stage open
2|usage|missing subcommand|orders
2|usage|'frobnicate' is not a command|frobnicate
2|usage|ORDER, --carrier and --tracking are required|dispatch 111-0000004-0000004
2|usage|--limit: 'x' is not allowed (allowed: a whole number from 1 to 100000000)|rules dry-run default --limit x
2|usage|--threads: '99' is not allowed (allowed: a whole number from 1 to 16)|web --threads 99
1|not_found|order NO-SUCH is not stored for this integration|orders show NO-SUCH
1|not_found|order NO-SUCH is not stored for this integration|orders explain NO-SUCH
1|not_found|'no.such' is not a setting|settings get no.such
1|failed|'Nowhere' does not exist|settings set additional.mf_branch Nowhere
1|not_found|run 'sellerbridge init'|--db /nonexistent/x.db orders list
CASES

# the same refusal without --json: nothing on stdout, the usage on stderr, exit 2
expect_rc 2 $SB orders list --stage bogus
expect_eq "$(wc -c < "$T/out")" 0 "stdout of a usage error"
expect_err "usage: sellerbridge orders list"
# a command that fails without its own JSON error still ends in one document
expect_rc 1 $SB --json import branches "$T/no-such.csv"
python3 -c "import json; d=json.load(open('$T/out')); assert d['code'] and d['error'], d" && ok || bad "import --json error document: $(cat "$T/out")"

# dispatch: stored, only the confirmation failed (Amazon unreachable) -> exit 0, said on
# stderr, the confirmation waits in the outbox for the engine
expect_rc 0 $SB settings set api.max_retries 0
expect_rc 0 $SB settings set additional.auto_update_status true
expect_rc 0 $SB dispatch 111-0000004-0000004 --carrier UPS --tracking 1Z999AA10123456784
expect_out "package 1 dispatched"
expect_err "the dispatch is stored; its confirmation to Amazon failed and stays in the outbox"
expect_eq "$(sqlite3 "$SELLERBRIDGE_DB" "SELECT COUNT(*) FROM shipments s JOIN sales_orders o ON o.id = s.order_id WHERE o.order_ref = '111-0000004-0000004'")" 1 "shipments stored"
expect_rc 0 $SB --json outbox
python3 -c "import json; d=json.load(open('$T/out')); i=d['items']; assert d['total']==1 and i[0]['key']=='111-0000004-0000004#1' and i[0]['status']=='pending' and i[0]['last_error'], d" && ok || bad "outbox after a failed confirmation: $(cat "$T/out")"
expect_rc 0 $SB --json dispatch 111-0000001-0000001 --carrier UPS --tracking 1Z999AA10123456785
python3 -c "import json; d=json.load(open('$T/out')); assert d['package']==1 and d['sent']==0 and 'LWA token' in d['confirmation_error'], d" && ok || bad "dispatch --json: $(cat "$T/out")"

# paged tables say where they stop
expect_rc 0 $SB orders list --limit 2
expect_out "(showing 1-2 of 7 orders; --offset 2 --limit 2 for the next)"
expect_rc 0 $SB orders list --stage cancelled
expect_out "(1 order)"

# sim --help: the simulator's usage, once
expect_rc 0 $SB sim --help
expect_out "usage: sellerbridge sim [--port N]"
grep -q "usage: sellerbridge usage" "$T/out" && bad "sim --help says usage twice" || ok
finish
