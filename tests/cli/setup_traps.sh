#!/usr/bin/env bash
# setup_traps.sh: setting up without traps (issue 18 item 4). A refused init leaves no
# database or key behind; a marketplace of another region is refused naming its region;
# a second init changes nothing and says what exists; an integration can be removed, with
# --yes, and while it has orders not yet confirmed only with --force; `settings set` warns
# when the marketplaces and the region do not fit.
. "$SB_SOURCE_DIR/tests/lib.sh"

# refused before anything is created
expect_rc 1 $SB init --marketplace BOGUS
expect_err "integration.marketplaces: 'BOGUS' is not allowed"
expect_err "no database was created"
[ ! -e "$SELLERBRIDGE_DB" ] && [ ! -e "$SELLERBRIDGE_KEY_FILE" ] && ok || bad "a refused init left $(ls "$T")"
expect_rc 1 $SB init --region na --marketplace A1F83G8C2ARO7P
expect_err "--marketplace A1F83G8C2ARO7P (UK) is in region eu, not na"
expect_err "allowed with na: US ATVPDKIKX0DER, CA A2EUQ1WTGCTBG2"
[ ! -e "$SELLERBRIDGE_DB" ] && ok || bad "a refused init left a database"
expect_rc 1 $SB init --marketplace ATVPDKIKX0DER,A39IBJ37TRP1C6
expect_err "--marketplace A39IBJ37TRP1C6 (AU) is in region fe, not na (that of the first marketplace)"
expect_rc 1 $SB init --region xx
expect_err "integration.region: 'xx' is not allowed"
[ ! -e "$SELLERBRIDGE_DB" ] && ok || bad "a refused init left a database"

# the region follows the marketplaces when not given
expect_rc 0 $SB init --name uk --marketplace A1F83G8C2ARO7P
expect_out "integration 'uk' created (region eu)"
expect_eq "$($SB settings get integration.region)" eu "region of the UK integration"

# a second init changes nothing and names what is there
expect_rc 1 $SB init
expect_err "already has integration 'uk'; nothing changed"
expect_err "init --name NAME"
expect_eq "$(sqlite3 "$SELLERBRIDGE_DB" "SELECT group_concat(name) FROM integrations")" uk "integrations after a second init"
expect_rc 0 $SB init --name uk
expect_out "integration 'uk' already exists; nothing changed"
expect_rc 0 $SB init --name au --region fe --marketplace A39IBJ37TRP1C6
expect_out "integration 'au' created (region fe)"

# remove: says what it deletes, needs --yes, and --force while orders are not confirmed
sqlite3 "$SELLERBRIDGE_DB" "INSERT INTO sales_orders(integration_id, order_ref, split_no, source, stage) SELECT id, '250-0000001-0000001', 0, 'amazon', 'open' FROM integrations WHERE name = 'au'" 2>"$T/sqlerr" || bad "inserting an order: $(cat "$T/sqlerr")"
expect_rc 1 $SB integration remove nope
expect_err "no integration 'nope'"
expect_rc 1 $SB integration remove au --yes
expect_out "integration 'au' would be deleted with its 2 stored settings, its credentials, 1 order"
expect_err "has 1 order not yet confirmed to Amazon"
expect_err "--force"
expect_rc 1 $SB integration remove au --force
expect_err "nothing deleted; run again with --yes"
expect_eq "$(sqlite3 "$SELLERBRIDGE_DB" "SELECT count(*) FROM integrations WHERE name = 'au'")" 1 "integration after refused removes"
expect_rc 0 $SB integration remove au --yes --force
expect_out "integration 'au' deleted"
expect_eq "$(sqlite3 "$SELLERBRIDGE_DB" "SELECT (SELECT group_concat(name) FROM integrations) || '|' || (SELECT count(*) FROM sales_orders) || '|' || (SELECT count(*) FROM settings)")" "uk|0|2" "after the remove"
# one integration left: commands need no --integration again
expect_rc 0 $SB settings get integration.region
expect_out "eu"
# settings that mix regions are stored but warned about, naming the marketplace and region
expect_rc 0 $SB settings set integration.marketplaces A1F83G8C2ARO7P,ATVPDKIKX0DER
expect_err "warning: integration.marketplaces: ATVPDKIKX0DER (US) is in region na, not eu (integration.region)"
expect_err "allowed with eu: UK A1F83G8C2ARO7P"
expect_rc 0 $SB settings set integration.region na
expect_err "warning: integration.marketplaces: A1F83G8C2ARO7P (UK) is in region eu, not na (integration.region)"
expect_rc 0 $SB settings set integration.region eu
expect_rc 0 $SB settings set integration.marketplaces A1F83G8C2ARO7P,A1PA6795UKMFR9
grep -q warning "$T/err" && bad "a fitting pair warned: $(cat "$T/err")" || ok
finish
