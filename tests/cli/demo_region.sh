#!/usr/bin/env bash
# demo_region.sh: the demo is one integration of one region: every marketplace it downloads
# from belongs to its integration.region (REFERENCE.md section 3.2), read back through the
# CLI's settings, and `init` accepts the same pairing; the order it routes to Sydney is an
# amazon.com order shipped to an Australian address, so the routing by country still shows.
. "$SB_SOURCE_DIR/tests/lib.sh"
cd "$T" || exit 1
# marketplace id -> region (REFERENCE.md 3.2), as data
cat > "$T/regions.txt" <<'TABLE'
ATVPDKIKX0DER na
A2EUQ1WTGCTBG2 na
A1AM78C64UM0Y8 na
A2Q3Y263D00KWC na
A1F83G8C2ARO7P eu
A1PA6795UKMFR9 eu
A13V1IB3VIYZZH eu
APJ6JRA9NG5V4 eu
A1RKKUPIHCS9HS eu
A1805IZSGTT6HS eu
A2NODRKZP88ZB9 eu
A1C3SOZRARQ6R3 eu
AMEN7PMS3EDWL eu
A28R8C7NBKEWEA eu
A33AVAJ2PDY3EV eu
A2VIGQ35RCS4UG eu
A17E79C6D8DWNP eu
ARBP9OOSHTCHU eu
AE08WJ6YKNBMC eu
A21TJRUUN4KGV eu
A1VC38T7YXB528 fe
A39IBJ37TRP1C6 fe
A19VAU5U5O7RUS fe
TABLE
expect_rc 0 $SB demo --dir "$T/d"
export SELLERBRIDGE_DB=$T/d/sellerbridge.db
expect_rc 0 $SB integration list
expect_eq "$(awk '{print $2}' "$T/out")" "demo" "the demo's integrations"
expect_rc 0 $SB --json settings get integration.region
region=$(python3 -c "import json; print(json.load(open('$T/out'))['value'])")
expect_eq "$region" "na" "the demo's region"
expect_rc 0 $SB --json settings get integration.marketplaces
mkts=$(python3 -c "import json; print(' '.join(json.load(open('$T/out'))['value']))")
expect_eq "$mkts" "ATVPDKIKX0DER A2EUQ1WTGCTBG2" "the demo's marketplaces (US, CA)"
for m in $mkts; do
  expect_eq "$(awk -v m="$m" '$1 == m {print $2}' "$T/regions.txt")" "$region" "region of marketplace $m"
done
# the CLI's own check: a new integration with this region and these marketplaces is accepted
expect_rc 0 env SELLERBRIDGE_DB="$T/init.db" $SB init --region "$region" --marketplace "${mkts// /,}"
# the Sydney order: amazon.com (a marketplace of the integration), shipped to Australia
expect_rc 0 $SB orders raw 250-0000007-0000007
expect_eq "$(python3 -c "import json; d=json.load(open('$T/out')); print(d['salesChannel']['marketplaceId'], d['recipient']['deliveryAddress']['countryCode'])")" \
  "ATVPDKIKX0DER AU" "the Sydney order's marketplace and country"
expect_rc 0 $SB orders show 250-0000007-0000007
expect_out "branch               Sydney"
finish
