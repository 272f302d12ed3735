/* grid.c: the routing grid (orders.routing.grid) checked and normalised row by row.
 *
 * The one idea: a row is a filter, so a row that names no condition would catch every
 * merchant-fulfilled order. Such a row is refused unless it says so ("any": true, which
 * the dashboard shows as "any order"). Everything else a seller can mistype is refused
 * with the row number first: an unknown key, a country that is not ISO 3166-1 alpha-2,
 * a state that is not one of its country's codes, a shipping option that is not one of
 * Amazon's service levels or programs. Codes are stored upper case (shipping options as
 * Amazon's UPPER_SNAKE names, so "Expedited" and "NextDay" are accepted and stored as
 * EXPEDITED and NEXT_DAY), which is how rules/default/route.lua compares them. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "core/util.h"
#include "json/json.h"
#include "settings/grid.h"
#include "store/lookup.h"

/* ISO 3166-1 alpha-2, the 249 officially assigned codes. */
static const char countries[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
    "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
    "DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR "
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU "
    "ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ "
    "LA LB LC LI LK LR LS LT LU LV LY "
    "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
    "NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA "
    "RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
    "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ "
    "VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/* State codes for the three countries whose orders carry them (US: states, DC,
 * territories and the military codes; AU: states and territories; CA: provinces). */
static const struct { const char *country, *codes; } states[] = {
    {"US", "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
           "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR VI GU AS MP UM AA AE AP"},
    {"AU", "ACT NSW NT QLD SA TAS VIC WA"},
    {"CA", "AB BC MB NB NL NS NT NU ON PE QC SK YT"},
};

/* Amazon's fulfillmentServiceLevel values, then the programs[] an order can carry. */
static const char *const shipping[] = {
    "EXPEDITED", "FREE_ECONOMY", "NEXT_DAY", "PRIORITY", "SAME_DAY", "SECOND_DAY", "SCHEDULED", "STANDARD",
    "PRIME", "AMAZON_BUSINESS", "PREMIUM", "IN_STORE_PICK_UP", "AMAZON_EASY_SHIP", "DELIVERY_BY_AMAZON",
    "FBM_SHIP_PLUS", "PREORDER", "AMAZON_BAZAAR", "AMAZON_HAUL", "INVOICE_BY_AMAZON", NULL};

static const char allowed_keys[] = "countries, states, shipping, branch, backups, any";

/* 1 when code (upper case) is a word of the space-separated list. */
static int in_words(const char *words, const char *code) {
    size_t n = strlen(code);
    if (!n) return 0;
    for (const char *p = words; (p = strstr(p, code)); p += n)
        if ((p == words || p[-1] == ' ') && (p[n] == ' ' || !p[n])) return 1;
    return 0;
}

int sb_grid_country_known(const char *code) {
    return strlen(code) == 2 && in_words(countries, code);
}

/* "Next day", "NextDay", "next_day" -> NEXT_DAY: letters compared without case, and
 * '_', '-' and spaces ignored. Returns the canonical name or NULL. */
static const char *shipping_canonical(const char *v) {
    for (int i = 0; shipping[i]; i++) {
        const char *a = v, *b = shipping[i];
        for (;;) {
            while (*a == '_' || *a == '-' || *a == ' ') a++;
            while (*b == '_') b++;
            if (!*a || !*b || toupper((unsigned char)*a) != *b) break;
            a++, b++;
        }
        if (!*a && !*b) return shipping[i];
    }
    return NULL;
}

static void shipping_list(char *out, size_t outlen) {
    size_t j = 0;
    out[0] = '\0';
    for (int i = 0; shipping[i] && j < outlen; i++)
        j += (size_t)snprintf(out + j, outlen - j, "%s%s", i ? ", " : "", shipping[i]);
}

/* Reads the list `key` of row (node) into up to max upper-cased codes of at most 31
 * characters each; returns the count, or -1 with msg. An absent key or null is empty. */
static int read_list(sb_json *j, int node, int row, const char *key, int max,
                     char codes[][32], char *msg, size_t msglen) {
    int t = sb_json_type(j, node, key);
    if (t == SB_JSON_NONE || t == SB_JSON_NULL) return 0;
    /* an empty JSON array may decode as an empty object */
    if (t == SB_JSON_OBJ) {
        int it = 0;
        const char *k;
        if (!sb_json_next(j, sb_json_get(j, node, key), &it, &k)) return 0;
    }
    if (t != SB_JSON_ARR) { snprintf(msg, msglen, "row %d: %s must be a list", row, key); return -1; }
    size_t len = sb_json_len(j, node, key);
    if (len > (size_t)max) { snprintf(msg, msglen, "row %d: at most %d %s, got %zu", row, max, key, len); return -1; }
    int arr = sb_json_get(j, node, key);
    for (size_t i = 0; i < len; i++) {
        const char *v = sb_json_str(j, sb_json_at(j, arr, i), NULL);
        if (!v || !*v) { snprintf(msg, msglen, "row %d: %s item %zu is not a text", row, key, i + 1); return -1; }
        size_t n = strlen(v);
        while (n && v[n - 1] == ' ') n--;
        while (*v == ' ') v++, n = n ? n - 1 : 0;
        if (!n || n >= 32) {
            snprintf(msg, msglen, "row %d: %s item %zu ('%.40s') is not a code", row, key, i + 1, v);
            return -1;
        }
        int keep_case = !strcmp(key, "backups") || !strcmp(key, "shipping");
        for (size_t k = 0; k < n; k++) codes[i][k] = keep_case ? v[k] : (char)toupper((unsigned char)v[k]);
        codes[i][n] = '\0';
        for (size_t k = 0; k < i; k++)
            if (!strcasecmp(codes[k], codes[i])) {
                snprintf(msg, msglen, "row %d: %s '%s' is listed twice", row, key, codes[i]);
                return -1;
            }
    }
    return (int)len;
}

static void write_list(sb_jw *w, const char *key, char codes[][32], int n) {
    sb_jw_key(w, key);
    sb_jw_arr(w);
    for (int i = 0; i < n; i++) sb_jw_str(w, codes[i]);
    sb_jw_end_arr(w);
}

#define FAIL(...) do { snprintf(msg, msglen, __VA_ARGS__); return -1; } while (0)

static int check_row(sb_store *s, const char *fba, sb_json *j, int node, int row, sb_jw *w, char *msg, size_t msglen) {
    char cc[50][32], st[100][32], sh[20][32], bk[2][32];
    int it = 0, any = 0;
    const char *key;
    if (sb_json_type(j, node, NULL) != SB_JSON_OBJ)
        FAIL("row %d is not an object like {\"countries\": [\"US\"], \"branch\": \"...\"}", row);
    for (int v; (v = sb_json_next(j, node, &it, &key));) {
        if (!strcmp(key, "countries") || !strcmp(key, "states") || !strcmp(key, "shipping") ||
            !strcmp(key, "branch") || !strcmp(key, "backups"))
            continue;
        if (!strcmp(key, "any")) {
            int t = sb_json_type(j, v, NULL);
            if (t != SB_JSON_BOOL) FAIL("row %d: any must be true or false", row);
            any = sb_json_bool(j, v, NULL, 0);
            continue;
        }
        FAIL("row %d: unknown key '%.40s' (allowed keys: %s)", row, key, allowed_keys);
    }
    const char *br = sb_json_str(j, node, "branch");
    if (!br || !*br) FAIL("row %d has no branch", row);
    char dberr[SB_ERRLEN];
    int exists = sb_store_has_branch(s, br, dberr);
    if (exists < 0) FAIL("row %d: %s", row, dberr);
    if (!exists) FAIL("row %d: branch '%.60s' does not exist", row, br);
    if (fba && *fba && !strcmp(br, fba))
        FAIL("row %d: branch '%.60s' is the FBA branch (orders.fba_branch); merchant-fulfilled orders cannot be "
             "routed there (allowed: a merchant branch)", row, br);
    int nc = read_list(j, node, row, "countries", 50, cc, msg, msglen);
    if (nc < 0) return -1;
    for (int i = 0; i < nc; i++)
        if (!sb_grid_country_known(cc[i]))
            FAIL("row %d: countries: '%s' is not an ISO 3166-1 alpha-2 country code (two letters: US, GB, AU, ...)%s",
                 row, cc[i], !strcmp(cc[i], "UK") ? "; the United Kingdom is GB" : "");
    int ns = read_list(j, node, row, "states", 100, st, msg, msglen);
    if (ns < 0) return -1;
    if (ns > 0 && nc == 0) FAIL("row %d: states: state codes need a country (US, AU or CA)", row);
    for (int i = 0; i < ns; i++) {
        int found = 0, with_states = 0;
        for (int c = 0; c < nc; c++)
            for (size_t k = 0; k < sizeof states / sizeof *states; k++)
                if (!strcmp(states[k].country, cc[c])) {
                    with_states = 1;
                    if (in_words(states[k].codes, st[i])) found = 1;
                }
        if (!with_states)
            FAIL("row %d: states: state codes are only allowed for US, AU or CA, not '%s'", row, cc[0]);
        if (!found) FAIL("row %d: states: '%s' is not a state code of the row's countries (US: NY, CA, ...; "
                         "AU: NSW, VIC, ...; CA: ON, BC, ...)", row, st[i]);
    }
    int nh = read_list(j, node, row, "shipping", 20, sh, msg, msglen);
    if (nh < 0) return -1;
    for (int i = 0; i < nh; i++) {
        const char *c = shipping_canonical(sh[i]);
        if (!c) {
            char l[400];
            shipping_list(l, sizeof l);
            FAIL("row %d: shipping: '%s' is not an Amazon service level or program (allowed: %s)", row, sh[i], l);
        }
        snprintf(sh[i], sizeof sh[i], "%s", c);
    }
    int nb = read_list(j, node, row, "backups", 2, bk, msg, msglen);
    if (nb < 0) return -1;
    for (int i = 0; i < nb; i++) {
        if ((exists = sb_store_has_branch(s, bk[i], dberr)) < 0) FAIL("row %d: %s", row, dberr);
        if (!exists) FAIL("row %d: backup branch '%s' does not exist", row, bk[i]);
        if (!strcmp(bk[i], br)) FAIL("row %d: backup branch '%s' is the row's branch", row, bk[i]);
        if (fba && *fba && !strcmp(bk[i], fba))
            FAIL("row %d: backup branch '%s' is the FBA branch (orders.fba_branch); merchant-fulfilled orders "
                 "cannot be routed there (allowed: a merchant branch)", row, bk[i]);
    }
    if (!nc && !ns && !nh && !any)
        FAIL("row %d names no countries, states or shipping options, so it would catch every merchant-fulfilled "
             "order; name at least one, or set \"any\": true for a deliberate catch-all row", row);
    if (any && (nc || ns || nh))
        FAIL("row %d: \"any\": true catches every order, but the row also names conditions; remove one or the other", row);
    sb_jw_obj(w);
    sb_jw_kstr(w, "branch", br);
    if (any) sb_jw_kbool(w, "any", 1);
    write_list(w, "countries", cc, nc);
    write_list(w, "states", st, ns);
    write_list(w, "shipping", sh, nh);
    write_list(w, "backups", bk, nb);
    sb_jw_end_obj(w);
    return 0;
}
#undef FAIL

int sb_grid_check(sb_store *s, const char *in, const char *fba, sb_buf *out, char *msg, size_t msglen) {
    sb_json *j = NULL;
    char e[SB_ERRLEN];
    int rc = -1;
    if (sb_json_parse(in, strlen(in), &j, e)) { snprintf(msg, msglen, "not valid JSON (%.200s)", e); return -1; }
    int t = sb_json_type(j, SB_JSON_ROOT, NULL);
    if (t != SB_JSON_ARR && !(t == SB_JSON_OBJ && sb_json_next(j, SB_JSON_ROOT, &(int){0}, &(const char *){NULL}) == 0)) {
        snprintf(msg, msglen, "not a JSON array of rows");
        goto out;
    }
    size_t len = sb_json_len(j, SB_JSON_ROOT, NULL);
    if (len > SB_GRID_MAX_ROWS) { snprintf(msg, msglen, "at most %d rows, got %zu", SB_GRID_MAX_ROWS, len); goto out; }
    sb_jw w;
    sb_jw_init(&w, out);
    sb_jw_arr(&w);
    for (size_t i = 0; i < len; i++)
        if (check_row(s, fba, j, sb_json_at(j, SB_JSON_ROOT, i), (int)i + 1, &w, msg, msglen)) goto out;
    sb_jw_end_arr(&w);
    rc = sb_jw_error(&w) ? -1 : 0;
    if (rc) snprintf(msg, msglen, "the grid is too large");
out:
    sb_json_free(j);
    return rc;
}
