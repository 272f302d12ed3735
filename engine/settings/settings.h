/* settings.h: every option of the Amazon Seller settings page, plus what the engine
 * needs beside them, as typed settings of one integration. The registry (settings.c) is
 * data: name, section, type, default, allowed values. Values are stored as canonical
 * text (lists and the routing grid as JSON); sb_settings_set validates and normalises,
 * and refuses a bad value with the setting's name, the value and what is allowed. */
#ifndef SB_SETTINGS_H
#define SB_SETTINGS_H
#include <stdint.h>
#include "store/store.h"

typedef enum sb_setting_type {
    SB_ST_BOOL, SB_ST_INT, SB_ST_NUMBER, SB_ST_ENUM, SB_ST_STRING, SB_ST_DATETIME,
    SB_ST_TIME, SB_ST_BRANCH, SB_ST_BRANCH_LIST, SB_ST_CUSTOMER, SB_ST_GROUP, SB_ST_GL,
    SB_ST_ENUM_LIST, SB_ST_STRING_LIST, SB_ST_GRID, SB_ST_URL, SB_ST_TZ,
    SB_ST_MARKETPLACES, SB_ST_PATH
} sb_setting_type;

typedef struct sb_setting_def {
    const char *name;           /* "orders.customer_mode" */
    const char *section;        /* Products, Stock, Orders, Additional, Notifications, Integration */
    sb_setting_type type;
    const char *def;            /* canonical default ("" = not set) */
    const char *allowed;        /* ENUM / ENUM_LIST: "a|b|c"; else NULL */
    double min, max;            /* INT / NUMBER range */
    const char *label;          /* the settings page's wording */
} sb_setting_def;

const sb_setting_def *sb_settings_defs(int *n);
/* The settings page's sentence for one value of a drop-down ("etd7" of stock.formula:
 * "SOH Less Open Orders within 7 days of ETD"), or NULL when the page has none. */
const char *sb_settings_option_label(const char *setting, const char *value);
const sb_setting_def *sb_settings_find(const char *name);
const char *sb_settings_type_name(sb_setting_type t);
/* How the rules see a type: 'b', 'i', 's' or 'j' (JSON). */
char sb_settings_rule_type(sb_setting_type t);
/* "what is allowed" for messages and --help: "1..30", "one of a, b, c", ... */
void sb_settings_describe_allowed(const sb_setting_def *d, char *out, size_t outlen);

/* The settings whose URL receives the Amazon credentials (api.endpoint gets the access
 * token, api.lwa_endpoint the client id, client secret and refresh token). Any value
 * must be https, or http to a loopback host; the admin API may set only Amazon's own
 * hosts: sb_settings_amazon_endpoint is 1 for empty, 'sandbox' and https URLs on
 * amazon.com, amazon.co.uk or amazon.co.jp, and writes the URL's host into host. */
int sb_settings_sends_credentials(const char *name);
/* 1 when url is http(s) to this machine (127.0.0.1, localhost, [::1]): the simulator,
 * never Amazon. */
int sb_settings_url_loopback(const char *url);
int sb_settings_amazon_endpoint(const char *value, char *host, size_t hostlen);

/* A date-time setting (a download's or upload's start) more than this far ahead of the
 * clock is refused: nothing would happen until then. The slack covers watermarks the
 * engine writes from Amazon's clock. */
#define SB_SETTINGS_FUTURE_SLACK_S 3600

/* Validates value for d and writes its canonical text (malloc'd) to *canon. Checked when
 * set, not later: rules.pack is loaded, orders.statuses may not be empty, a date-time
 * may not be in the future, the FBA branch (orders.fba_branch) is refused as a routing
 * row's branch or backup and (sb_settings_set) in stock.branches. */
int sb_settings_validate(sb_store *s, int64_t integ, const sb_setting_def *d,
                         const char *value, char **canon, char *err);
int sb_settings_set(sb_store *s, int64_t integ, const char *name, const char *value, char *err);
/* The same for a watermark the engine moves after a run (orders.last_updated, ...): its
 * value comes from the data or Amazon's clock, so it is not refused for being ahead of
 * this machine's clock. */
int sb_settings_set_watermark(sb_store *s, int64_t integ, const char *name, const char *value, char *err);
int sb_settings_unset(sb_store *s, int64_t integ, const char *name, char *err);
/* *value is malloc'd (the default when unset); *is_set says whether it was stored. */
int sb_settings_get(sb_store *s, int64_t integ, const char *name, char **value,
                    int *is_set, char *err);

/* A snapshot of all settings of one integration, for a job run. */
typedef struct sb_settings {
    int n;
    const sb_setting_def **defs;
    char **values;              /* canonical text, "" when not set */
    int *is_set;
} sb_settings;

int sb_settings_load(sb_store *s, int64_t integ, sb_settings *out, char *err);
void sb_settings_free(sb_settings *st);
const char *sb_settings_str(const sb_settings *st, const char *name);   /* never NULL */
int sb_settings_bool(const sb_settings *st, const char *name);
long sb_settings_int(const sb_settings *st, const char *name);
double sb_settings_num(const sb_settings *st, const char *name);

/* Decodes a canonical JSON list setting into a NULL-terminated malloc'd array of
 * malloc'd strings (free with sb_settings_list_free). */
char **sb_settings_list(const char *json);
void sb_settings_list_free(char **list);

#endif
