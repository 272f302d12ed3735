#!/usr/bin/env bash
# foundation.sh: init, settings and credentials through the CLI, as a person uses them:
# exit codes, messages that name the setting and what is allowed, nothing changed on a
# refusal, secrets shown masked and never printed.
. "$SB_SOURCE_DIR/tests/lib.sh"

expect_rc 1 $SB settings list
expect_err "run 'sellerbridge init'"
expect_rc 0 $SB init
expect_out "integration 'main' created"
expect_eq "$(stat -c %a "$SELLERBRIDGE_KEY_FILE")" 600 "key file mode"
expect_rc 0 $SB init
expect_out "already exists"
expect_rc 2 $SB frobnicate
expect_err "'frobnicate' is not a command"
expect_rc 2 $SB settings
expect_rc 0 $SB settings --help
expect_out "usage: sellerbridge settings"
expect_rc 0 $SB import branches "$SRC/examples/data/branches.csv"

# a refused value names the setting, the value and what is allowed; nothing changes
expect_rc 0 $SB settings set additional.fulfillment_latency 5
expect_rc 1 $SB settings set additional.fulfillment_latency 31
expect_err "additional.fulfillment_latency: '31' is not allowed: out of range (allowed: a whole number from 1 to 30)"
expect_rc 0 $SB settings get additional.fulfillment_latency
expect_eq "$(cat "$T/out")" 5 "latency after refusal"
expect_rc 1 $SB settings set orders.fba_branch Sydny
expect_err "orders.fba_branch: branch 'Sydny' does not exist (branches: 3PL, 3PL Prime, Amazon FBA, East, LA Warehouse, Melbourne, NJ Warehouse, Sydney, West)"
expect_rc 1 $SB settings set orders.routing.grid '[{"countries":["NZ"],"states":["AUK"],"branch":"Sydney"}]'
expect_err "state codes are only allowed for US, AU or CA, not 'NZ'"
expect_rc 0 $SB settings get orders.routing.grid
expect_eq "$(cat "$T/out")" "[]" "grid after refusal"
expect_rc 1 $SB settings set orders.last_updated 2026-02-30
expect_err "orders.last_updated: '2026-02-30' is not allowed: not a valid date"

# --json for scripts
expect_rc 0 $SB settings list --json
python3 -c "import json,sys; d=json.load(open('$T/out'))['settings']; assert any(s['name']=='additional.fulfillment_latency' and s['value']==5 and s['is_set'] for s in d); assert len(d) >= 40" && ok || bad "settings list --json"
expect_rc 0 $SB --json settings get stock.formula
expect_out '"value":"available"'
expect_out '"etd7":"SOH Less Open Orders within 7 days of ETD"'
# the table speaks the settings page beside each drop-down's value
expect_rc 0 $SB settings list
expect_out "orders.customer_mode               id_or_email_update_else_insert: If Customer ID or email exists update customer or else insert new customer"
expect_rc 0 $SB settings unset additional.fulfillment_latency
expect_rc 0 $SB settings get additional.fulfillment_latency
expect_eq "$(cat "$T/out")" 2 "latency default"

# credentials: stored encrypted, listed masked, never echoed whole
secret="Atzr|IwEBIMYSECRETREFRESHTOKEN0123456789"
expect_rc 0 $SB credentials set lwa.refresh_token "$secret"
expect_out "Atzr****(40 chars)"
grep -qF "IwEBIMYSECRET" "$T/out" && bad "secret echoed" || ok
echo "client-secret-value-42" | $SB credentials set lwa.client_secret >"$T/out" 2>"$T/err" && ok || bad "credential from stdin"
expect_rc 0 $SB credentials list
expect_out "lwa.client_id        (not set)"
expect_out "lwa.refresh_token    Atzr****(40 chars)"
grep -qF "MYSECRET" "$T/out" && bad "secret listed" || ok
strings "$SELLERBRIDGE_DB"* 2>/dev/null | grep -qF "MYSECRET" && bad "secret in clear in the database" || ok
expect_rc 2 $SB credentials set lwa.password x
expect_err "'lwa.password' is not a credential"
# a wrong key cannot read them and says so
SELLERBRIDGE_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff expect_rc 0 $SB credentials list
expect_out "cannot be decrypted: wrong key"

# several integrations: commands ask which one
expect_rc 0 $SB integration add eu-store
expect_rc 1 $SB settings get stock.formula
expect_err "several integrations (main, eu-store): choose one with --integration NAME"
expect_rc 0 $SB --integration eu-store settings set integration.region eu
expect_rc 0 $SB --integration main settings get integration.region
expect_eq "$(cat "$T/out")" na "settings are per integration"

# a database from a newer program is refused
sqlite3 "$SELLERBRIDGE_DB" "PRAGMA user_version = 999"
expect_rc 1 $SB --integration main settings list
expect_err "newer than this program understands"
finish
