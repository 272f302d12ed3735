#!/usr/bin/env bash
# notifications.sh: `sellerbridge notifications setup` from the command line against the
# demo's simulator and a scripted SQS queue (python3's http.server answering
# GetQueueAttributes): usage errors exit 2; missing settings and keys exit 1 naming each
# with its command; once set, the first run creates the destination and the subscription,
# the second finds both and changes nothing; --json is one document, the same as the
# dashboard's POST /api/v1/notifications/setup.
. "$SB_SOURCE_DIR/tests/lib.sh"
cd "$T" || exit 1

# the scripted queue: a Standard queue whose policy lets Amazon's account send
cat > "$T/queue.py" <<'PY'
import http.server, json, sys
arn = "arn:aws:sqs:us-east-1:000000000000:sellerbridge-sim"
policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
          "Principal": {"AWS": "arn:aws:iam::437568002678:root"},
          "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes"], "Resource": arn}]}
attrs = {"QueueArn": arn, "FifoQueue": "false", "MessageRetentionPeriod": "1209600",
         "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn + "-dlq", "maxReceiveCount": 3}),
         "Policy": json.dumps(policy)}
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        ok = self.headers.get("X-Amz-Target") == "AmazonSQS.GetQueueAttributes"
        body = json.dumps({"Attributes": attrs} if ok else {"__type": "UnsupportedOperation"}).encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_port))
s.serve_forever()
PY
python3 "$T/queue.py" "$T/queue.port" & qpid=$!
$SB demo --dir "$T/d" --serve --listen 127.0.0.1:0 > "$T/serve.out" 2> "$T/serve.err" & pid=$!
for i in $(seq 400); do [ -s "$T/queue.port" ] && grep -q "the engine runs" "$T/serve.out" && break; sleep 0.05; done
grep -q "the engine runs" "$T/serve.out" && ok || bad "demo --serve did not start: $(tail -5 "$T/serve.err")"
url=$(sed -n 's/^dashboard at \(http[^ ]*\) .*/\1/p' "$T/serve.out")
export SELLERBRIDGE_DB="$T/d/sellerbridge.db"
post() { curl -s -o "$T/web.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $(cat "$SELLERBRIDGE_DB.web-token")" \
         "${url}api/v1/notifications/setup"; }

# usage
expect_rc 2 $SB notifications
expect_err "missing subcommand"
expect_rc 2 $SB notifications frob
expect_err "unknown subcommand 'frob'"
expect_rc 2 $SB notifications setup --colour red
expect_err "unknown argument '--colour'"

# nothing set: each missing thing named with the command that sets it
expect_rc 1 $SB notifications setup
expect_out "settings      FAILED"
expect_out "-> notifications.queue_url is not set: sellerbridge settings set notifications.queue_url"
expect_out "-> aws.access_key_id is not set: sellerbridge credentials set aws.access_key_id"
expect_out "-> aws.secret_access_key is not set: sellerbridge credentials set aws.secret_access_key"
expect_out "destination   not run"
expect_rc 1 $SB notifications setup --json
python3 - "$T/out" <<'PY' && ok || bad "setup --json with nothing set: $(head -c 600 "$T/out")"
import json, sys
d = json.loads(open(sys.argv[1]).read())          # one document, nothing after it
assert d["ok"] is False and d["enabled"] is False, d
assert [s["status"] for s in d["steps"]] == ["failed"] + ["not_run"] * 5, d
assert "sellerbridge credentials set aws.access_key_id" in d["steps"][0]["fix"], d
PY

# set up: the first run creates both, the second finds both
expect_rc 0 $SB settings set notifications.queue_url "http://127.0.0.1:$(cat "$T/queue.port")/000000000000/sellerbridge-sim"
echo AKIDEXAMPLE0000TEST | $SB credentials set aws.access_key_id > /dev/null 2>&1
echo 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' | $SB credentials set aws.secret_access_key > /dev/null 2>&1
expect_rc 0 $SB notifications setup
expect_out "destination   OK (changed)  destination "
expect_out "subscription  OK (changed)  ORDER_CHANGE subscription "
expect_out "enabled       OK (changed)  notifications.enabled turned on"
expect_out "notifications are on for"
expect_rc 0 $SB notifications setup
expect_out "destination   OK            destination "
expect_out "nothing changed: everything was already set up"
grep -q "(changed)" "$T/out" && bad "a second run changed something: $(cat "$T/out")" || ok
expect_rc 0 $SB settings get notifications.enabled
expect_out "true"
! grep -q "wJalrXUtnFEMI" "$T/out" "$T/err" && ok || bad "the AWS secret reached the output"

# --json is the dashboard's document, byte for byte
expect_rc 0 $SB notifications setup --json
code=$(post)
expect_eq "$code" 200 "POST /api/v1/notifications/setup"
expect_eq "$(cat "$T/out")" "$(cat "$T/web.json")" "setup --json vs the web endpoint"
python3 -c "import json,sys; d=json.load(open('$T/web.json')); assert d['ok'] and not d['changed'] and d['queue_arn'].endswith(':sellerbridge-sim'), d" \
  && ok || bad "web document: $(head -c 400 "$T/web.json")"

kill -TERM $pid; wait $pid
kill $qpid; wait $qpid 2>/dev/null
finish
