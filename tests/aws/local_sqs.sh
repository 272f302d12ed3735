#!/usr/bin/env bash
# local_sqs.sh: sb_sqs against a real third-party SQS implementation, the npm package
# local-aws-sqs@2.0.2 (JSON protocol, long polling, visibility; no signature checks),
# installed into npm-cache/ in this build folder and run by node on 127.0.0.1. Then
# local_sqs_client (argument 1) sends, long-polls, deletes and reads the attributes.
# SKIPPED (exit 77) when node/npm is missing or the registry cannot be reached; any
# other failure fails.
set -u
CLIENT=$1
HERE=$(pwd)
CACHE=$HERE/npm-cache
PKG=local-aws-sqs@2.0.2
skip() { echo "SKIP: $*"; exit 77; }
command -v node >/dev/null || skip "node not found (bash .ci/setup installs nodejs)"
command -v npm >/dev/null || skip "npm not found (bash .ci/setup installs npm)"
mkdir -p "$CACHE"
if [ "$(node -p 'try{require(process.argv[1]+"/node_modules/local-aws-sqs/package.json").version}catch(e){""}' "$CACHE")" != "2.0.2" ]; then
  echo "installing $PKG into $CACHE"
  (cd "$CACHE" && timeout 180 npm install --no-audit --no-fund --no-save --loglevel=error "$PKG" >"$CACHE/npm.log" 2>&1) ||
    skip "'npm install $PKG' failed (registry unreachable?): $(tail -3 "$CACHE/npm.log" | tr '\n' ' ')"
fi
OUT=$(mktemp)
trap 'kill $NODE_PID 2>/dev/null; wait $NODE_PID 2>/dev/null; rm -f "$OUT"' EXIT
(cd "$CACHE" && exec node -e '
require("local-aws-sqs").createSqsServer({port: 0, hostname: "127.0.0.1",
  queues: [{QueueName: "sellerbridge-test", Attributes: {MessageRetentionPeriod: "1209600"}}]})
  .then(s => console.log("ready " + s.address().port))
  .catch(e => { console.error(e); process.exit(1); });') >"$OUT" 2>&1 &
NODE_PID=$!
PORT=""
for _ in $(seq 1 200); do
  PORT=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$OUT")
  [ -n "$PORT" ] && break
  kill -0 $NODE_PID 2>/dev/null || break
  sleep 0.05
done
[ -n "$PORT" ] || { echo "FAIL: local-aws-sqs did not start: $(cat "$OUT")" >&2; exit 1; }
echo "local-aws-sqs listening on 127.0.0.1:$PORT"
"$CLIENT" "http://127.0.0.1:$PORT/123456789012/sellerbridge-test"
