/* order.c: one order from JSON to decisions: decode (cjson, in the state), normalise
 * (engine/rules/normalize.lua), run the hooks status -> validate -> customer -> route ->
 * gl, and read each decision back into C, validating it as it is read. Also the stock
 * hook. The one idea: C trusts nothing a rule returns; every field is type-checked and
 * every name (branch, customer, GL code, group) is checked against the context before it
 * reaches sb_decision, and a bad decision holds the order with "file: problem" instead of
 * failing the call. Strings handed out live in r->arena until the next call.
 *
 * Why one file: the decision readers of the six hooks are one table-shaped function
 * each, read side by side. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json/json.h"
#include "rules/rules_int.h"
#include "core/util.h"

#define SB_RULES_MAX_BODY ((size_t)8 << 20)
#define SB_RULES_MAX_ORDER_LINES 10000     /* items in one order the engine will read */

/* ---- small helpers -------------------------------------------------------------- */

static const char *sb_dup(sb_rules *r, const char *s, size_t n) {
    const char *p = sb_arena_strdup(&r->arena, s, n);
    return p ? p : "";
}

/* t[k] as an arena string, NULL when absent (or not a string). [-0, +0] */
static const char *sb_get_str(sb_rules *r, int t, const char *k) {
    lua_State *L = r->L;
    const char *out = NULL;
    if (sb_rawfield(L, t, k) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        out = sb_dup(r, s, n);
    }
    lua_pop(L, 1);
    return out;
}

/* Audit entries are written with json.h's writer into one buffer per call, then kept in
 * the arena with the rest of the decision. An entry is always one valid JSON object: a
 * string in it keeps its first SB_AUDIT_MAX_STR bytes (a rule's reason may be a
 * megabyte), and an entry that still does not fit (a route over thousands of lines) is
 * kept as {"truncated":true} rather than as the part that fitted. */
#define SB_AUDIT_MAX ((size_t)1 << 20)
#define SB_AUDIT_MAX_STR 1024

static void sb_audit_begin(sb_jw *w, sb_buf *b) {
    sb_buf_init(b, SB_AUDIT_MAX);
    sb_jw_init(w, b);
    sb_jw_obj(w);
}

/* "k": s, cut at a character boundary to SB_AUDIT_MAX_STR bytes and "..." when longer;
 * s NULL writes null */
static void sb_audit_str(sb_jw *w, const char *k, const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n <= SB_AUDIT_MAX_STR) { sb_jw_kstr(w, k, s); return; }
    char cut[SB_AUDIT_MAX_STR + 3];
    n = SB_AUDIT_MAX_STR;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--;  /* s[n] is inside a character */
    memcpy(cut, s, n);
    memcpy(cut + n, "...", 3);
    sb_jw_key(w, k);
    sb_jw_strn(w, cut, n + 3);
}

static void sb_audit(sb_rules *r, sb_decision *d, const char *hook, sb_jw *w, sb_buf *b) {
    sb_jw_end_obj(w);
    if (d->naudit < (int)(sizeof d->audit / sizeof d->audit[0]) && b->data) {
        d->audit[d->naudit].hook = hook;
        d->audit[d->naudit].decision_json = sb_jw_error(w) ? "{\"truncated\":true}" : sb_dup(r, b->data, b->len);
        d->naudit++;
    }
    sb_buf_free(b);
}

static const char *sb_typename_at(lua_State *L, int idx) {
    return luaL_typename(L, idx);
}

/* Reads optional field k of the table at t (raw: no metamethod of the rule's runs), which
 * must be of type want (or nil). Returns 1 with the value pushed, 0 with nothing pushed
 * (absent), or SB_ERULE with msg. */
static int sb_dec_field(lua_State *L, int t, const char *k, int want, const char *file,
                        const char *ctx, char *msg, size_t msglen) {
    int ty = sb_rawfield(L, t, k);
    if (ty == LUA_TNIL) { lua_pop(L, 1); return 0; }
    if (ty != want) {
        snprintf(msg, msglen, "%s: %s%s must be a %s, got %s", file, ctx, k,
                 lua_typename(L, want), sb_typename_at(L, -1));
        lua_pop(L, 1);
        return SB_ERULE;
    }
    return 1;
}

/* optional string field -> arena copy; NULL when absent or empty. A name is compared as
 * the bytes it has, so one with a NUL in it (which C would read as shorter) is refused. */
static int sb_dec_str(sb_rules *r, int t, const char *k, const char *file, const char *ctx,
                      const char **out, char *msg, size_t msglen) {
    int rc = sb_dec_field(r->L, t, k, LUA_TSTRING, file, ctx, msg, msglen);
    *out = NULL;
    if (rc <= 0) return rc;
    size_t n;
    const char *s = lua_tolstring(r->L, -1, &n);
    if (memchr(s, 0, n)) {
        snprintf(msg, msglen, "%s: %s%s contains a NUL byte", file, ctx, k);
        lua_pop(r->L, 1);
        return SB_ERULE;
    }
    if (n) *out = sb_dup(r, s, n);
    lua_pop(r->L, 1);
    return 0;
}

static int sb_dec_bool(sb_rules *r, int t, const char *k, const char *file, int required,
                       int *out, char *msg, size_t msglen) {
    int rc = sb_dec_field(r->L, t, k, LUA_TBOOLEAN, file, "", msg, msglen);
    if (rc < 0) return rc;
    if (rc == 0) {
        if (!required) return 0;
        snprintf(msg, msglen, "%s: the decision lacks '%s' (a boolean)", file, k);
        return SB_ERULE;
    }
    *out = lua_toboolean(r->L, -1);
    lua_pop(r->L, 1);
    return 0;
}

/* ---- the normalised order into sb_order ------------------------------------------ */

/* [-0, +0] reads the normalised order table at t */
static int sb_fill_order(sb_rules *r, int t, sb_order *o) {
    lua_State *L = r->L;
    o->order_id = sb_get_str(r, t, "id");
    o->marketplace_id = sb_get_str(r, t, "marketplace_id");
    o->status = sb_get_str(r, t, "status");
    o->fulfilled_by = sb_get_str(r, t, "fulfilled_by");
    o->service_level = sb_get_str(r, t, "service_level");
    o->created = sb_get_str(r, t, "created");
    o->updated = sb_get_str(r, t, "updated");
    o->currency = sb_get_str(r, t, "currency");
    o->total = sb_get_str(r, t, "total");
    o->shipping_total = sb_get_str(r, t, "shipping_total");

    /* programs, comma-separated in Amazon's order */
    sb_rawfield(L, t, "program_list");
    char progs[512];
    size_t pn = 0;
    progs[0] = 0;
    lua_Integer np = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
    for (lua_Integer i = 1; i <= np; i++) {
        lua_rawgeti(L, -1, i);
        const char *p = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (p && pn < sizeof progs - 1) pn += (size_t)snprintf(progs + pn, pn < sizeof progs ? sizeof progs - pn : 0, "%s%s", pn ? "," : "", p);
        if (pn >= sizeof progs) pn = sizeof progs - 1;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    o->programs = sb_dup(r, progs, strlen(progs));

    sb_rawfield(L, t, "buyer");
    int b = lua_gettop(L);
    if (!lua_istable(L, b)) { lua_pop(L, 1); lua_newtable(L); }
    o->buyer_name = sb_get_str(r, b, "name");
    o->buyer_email = sb_get_str(r, b, "email");
    o->buyer_company = sb_get_str(r, b, "company");
    o->buyer_po = sb_get_str(r, b, "po");
    lua_pop(L, 1);

    sb_rawfield(L, t, "ship");
    int a = lua_gettop(L);
    if (!lua_istable(L, a)) { lua_pop(L, 1); lua_newtable(L); }
    sb_address *s = &o->ship;
    s->name = sb_get_str(r, a, "name");
    s->company = sb_get_str(r, a, "company");
    s->line1 = sb_get_str(r, a, "line1");
    s->line2 = sb_get_str(r, a, "line2");
    s->line3 = sb_get_str(r, a, "line3");
    s->city = sb_get_str(r, a, "city");
    s->district = sb_get_str(r, a, "district");
    s->state = sb_get_str(r, a, "state");
    s->postal = sb_get_str(r, a, "postal");
    s->country = sb_get_str(r, a, "country");
    s->phone = sb_get_str(r, a, "phone");
    s->type = sb_get_str(r, a, "type");
    lua_pop(L, 1);

    sb_rawfield(L, t, "lines");
    int ls = lua_gettop(L);
    size_t n = lua_istable(L, ls) ? lua_rawlen(L, ls) : 0;
    if (n > SB_RULES_MAX_ORDER_LINES) { lua_pop(L, 1); return SB_ENOMEM; }
    o->nlines = (int)n;
    o->lines = n ? sb_arena_alloc(&r->arena, n * sizeof *o->lines) : NULL;
    if (n && !o->lines) { lua_pop(L, 1); return SB_ENOMEM; }
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, ls, (lua_Integer)i);
        int l = lua_gettop(L);
        if (!lua_istable(L, l)) { lua_pop(L, 1); lua_newtable(L); }
        sb_order_line *ol = &o->lines[i - 1];
        memset(ol, 0, sizeof *ol);
        ol->item_id = sb_get_str(r, l, "item_id");
        ol->sku = sb_get_str(r, l, "sku");
        ol->asin = sb_get_str(r, l, "asin");
        ol->title = sb_get_str(r, l, "title");
        ol->qty = sb_rules_num(L, l, "qty");
        ol->qty_shipped = sb_rules_num(L, l, "qty_shipped");
        ol->unit_price = sb_get_str(r, l, "unit_price");
        ol->line_total = sb_get_str(r, l, "line_total");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

/* ---- decisions ------------------------------------------------------------------- */

static int sb_take_status(sb_rules *r, int t, sb_decision *d, char *msg, size_t ml) {
    int rc;
    if ((rc = sb_dec_bool(r, t, "download", "status.lua", 1, &d->download, msg, ml)) < 0) return rc;
    if ((rc = sb_dec_str(r, t, "reason", "status.lua", "", &d->skip_reason, msg, ml)) < 0) return rc;
    sb_jw w;
    sb_buf b;
    sb_audit_begin(&w, &b);
    sb_jw_kbool(&w, "download", d->download);
    if (d->skip_reason) sb_audit_str(&w, "reason", d->skip_reason);
    sb_audit(r, d, "status", &w, &b);
    return 0;
}

static int sb_take_validate(sb_rules *r, int t, sb_decision *d, char *msg, size_t ml) {
    int rc;
    if ((rc = sb_dec_bool(r, t, "attention", "validate.lua", 1, &d->attention, msg, ml)) < 0) return rc;
    if ((rc = sb_dec_str(r, t, "reason", "validate.lua", "", &d->attention_reason, msg, ml)) < 0) return rc;
    if (d->attention && !d->attention_reason) d->attention_reason = "needs attention";
    sb_jw w;
    sb_buf b;
    sb_audit_begin(&w, &b);
    sb_jw_kbool(&w, "attention", d->attention);
    if (d->attention_reason) sb_audit_str(&w, "reason", d->attention_reason);
    sb_audit(r, d, "validate", &w, &b);
    return 0;
}

static int sb_take_customer(sb_rules *r, int t, const char *order_key, sb_decision *d, char *msg, size_t ml) {
    static const char *const actions[] = {"insert", "update", "keep", "selected"};
    const char *F = "customer.lua";
    lua_State *L = r->L;
    const char *action = NULL, *ref = NULL, *key = NULL, *group = NULL, *name = NULL;
    int rc, has_id = 0;
    int64_t id = 0;
    if ((rc = sb_dec_str(r, t, "action", F, "", &action, msg, ml)) < 0) return rc;
    if (!action) { snprintf(msg, ml, "%s: the decision lacks 'action' (insert, update, keep or selected)", F); return SB_ERULE; }
    int a = 0;
    for (int i = 0; i < 4; i++) if (!strcmp(action, actions[i])) a = i + 1;
    if (!a) { snprintf(msg, ml, "%s: unknown action '%s' (insert, update, keep or selected)", F, action); return SB_ERULE; }
    if ((rc = sb_dec_field(L, t, "id", LUA_TNUMBER, F, "", msg, ml)) < 0) return rc;
    if (rc == 1) {
        lua_Number v = lua_tonumber(L, -1);
        lua_pop(L, 1);
        if (v != floor(v) || v < 1 || v > 9007199254740992.0) {
            snprintf(msg, ml, "%s: id must be a positive whole number, got %.15g", F, (double)v);
            return SB_ERULE;
        }
        id = (int64_t)v;
        has_id = 1;
    }
    if ((rc = sb_dec_str(r, t, "ref", F, "", &ref, msg, ml)) < 0) return rc;
    if ((rc = sb_dec_str(r, t, "key", F, "", &key, msg, ml)) < 0) return rc;
    if ((rc = sb_dec_str(r, t, "group", F, "", &group, msg, ml)) < 0) return rc;
    if ((rc = sb_dec_str(r, t, "name", F, "", &name, msg, ml)) < 0) return rc;
    if (a != SB_CUST_INSERT) {
        if (!has_id && ref) {
            sb_customer_info c = {0};
            if (!r->lookup || !r->lookup->customer_by_ref ||
                r->lookup->customer_by_ref(r->lookup->ud, ref, &c) != 0) {
                snprintf(msg, ml, "%s: customer ref '%s' does not exist", F, ref);
                return SB_ERULE;
            }
            id = c.id;
            has_id = 1;
        } else if (!has_id) {
            snprintf(msg, ml, "%s: action '%s' needs the customer's id (or ref)", F, action);
            return SB_ERULE;
        } else if (!sb_rules_seen_id(r, id)) {
            snprintf(msg, ml, "%s: customer id %lld does not exist (take it from a customer look-up)", F, (long long)id);
            return SB_ERULE;
        }
    }
    int found = group && r->lookup && r->lookup->group_exists ? r->lookup->group_exists(r->lookup->ud, group) : 1;
    if (found < 0) {
        snprintf(msg, ml, "%s: customer group '%s' could not be looked up: the database could not be read", F, group);
        return found;
    }
    if (!found) {
        snprintf(msg, ml, "%s: customer group '%s' does not exist", F, group);
        return SB_ERULE;
    }
    d->customer_action = a;
    d->customer_id = a == SB_CUST_INSERT ? 0 : id;
    d->customer_key = a == SB_CUST_INSERT ? (key ? key : order_key) : NULL;
    d->customer_group = a == SB_CUST_INSERT ? group : NULL;
    d->customer_name = a == SB_CUST_INSERT ? name : NULL;
    sb_jw w;
    sb_buf b;
    sb_audit_begin(&w, &b);
    sb_audit_str(&w, "action", action);
    if (a == SB_CUST_INSERT) {
        sb_audit_str(&w, "key", d->customer_key);
        if (group) sb_audit_str(&w, "group", group);
        if (name) sb_audit_str(&w, "name", name);
    } else {
        sb_jw_kint(&w, "id", (long long)id);
    }
    sb_audit(r, d, "customer", &w, &b);
    return 0;
}

static int sb_check_branch(sb_rules *r, const char *b, char *msg, size_t ml) {
    if (sb_rules_branch_exists(r, b)) return 0;
    snprintf(msg, ml, "route.lua: branch '%s' does not exist", b);
    return SB_ERULE;
}

/* reads splits[si] at the top of the stack into d->splits[si]. Every count is the order's
 * before it sizes anything: a split names each line of the order at most once, with a
 * whole quantity from 1 to the line's; sum[] adds up each line over the splits. */
static int sb_take_split(sb_rules *r, int si, const sb_order *o, double *sum, sb_decision *d, char *msg, size_t ml) {
    const char *F = "route.lua";
    lua_State *L = r->L;
    int s = lua_gettop(L), rc;
    char ctx[48];
    snprintf(ctx, sizeof ctx, "splits[%d].", si + 1);
    if (!lua_istable(L, s)) { snprintf(msg, ml, "%s: splits[%d] must be a table, got %s", F, si + 1, luaL_typename(L, s)); return SB_ERULE; }
    const char *branch;
    if ((rc = sb_dec_str(r, s, "branch", F, ctx, &branch, msg, ml)) < 0) return rc;
    if (!branch) { snprintf(msg, ml, "%s: splits[%d] lacks 'branch'", F, si + 1); return SB_ERULE; }
    if ((rc = sb_check_branch(r, branch, msg, ml)) < 0) return rc;
    if ((rc = sb_dec_field(L, s, "lines", LUA_TTABLE, F, ctx, msg, ml)) < 0) return rc;
    if (rc == 0) { snprintf(msg, ml, "%s: splits[%d] lacks 'lines'", F, si + 1); return SB_ERULE; }
    int ls = lua_gettop(L);
    size_t n = lua_rawlen(L, ls);
    if (n == 0) {
        lua_pop(L, 1);
        snprintf(msg, ml, "%s: splits[%d] has no lines (an empty split would be an empty order)", F, si + 1);
        return SB_ERULE;
    }
    if (n > (size_t)o->nlines) {
        lua_pop(L, 1);
        snprintf(msg, ml, "%s: splits[%d] has %zu lines, the order has %d (each line at most once per split)",
                 F, si + 1, n, o->nlines);
        return SB_ERULE;
    }
    sb_split *sp = &d->splits[si];
    sp->branch = branch;
    sp->nlines = 0;
    sp->lines = sb_arena_alloc(&r->arena, n * sizeof *sp->lines);
    if (!sp->lines) { lua_pop(L, 1); snprintf(msg, ml, "%s: out of memory", F); return SB_ERULE; }
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, ls, (lua_Integer)i);
        int e = lua_gettop(L);
        if (!lua_istable(L, e)) {
            snprintf(msg, ml, "%s: splits[%d].lines[%zu] must be a table {line=, qty=}, got %s", F, si + 1, i, luaL_typename(L, e));
            lua_pop(L, 2);
            return SB_ERULE;
        }
        sb_rawfield(L, e, "line");
        sb_rawfield(L, e, "qty");
        int okl = lua_type(L, -2) == LUA_TNUMBER, okq = lua_type(L, -1) == LUA_TNUMBER;
        double line = lua_tonumber(L, -2), qty = lua_tonumber(L, -1);
        lua_pop(L, 3);
        if (!okl || !okq) {
            snprintf(msg, ml, "%s: splits[%d].lines[%zu] needs numbers line= and qty=", F, si + 1, i);
            lua_pop(L, 1);
            return SB_ERULE;
        }
        if (line != floor(line) || line < 1 || line > o->nlines) {
            snprintf(msg, ml, "%s: splits[%d].lines[%zu].line %.15g is not a line of the order (1..%d)", F, si + 1, i, line, o->nlines);
            lua_pop(L, 1);
            return SB_ERULE;
        }
        int li = (int)line - 1;
        double have = o->lines[li].qty;
        if (!(qty >= 1) || qty != floor(qty) || qty > have) {
            snprintf(msg, ml, "%s: splits[%d].lines[%zu].qty must be a whole number from 1 to %.15g (line %d's), got %.15g",
                     F, si + 1, i, have, li + 1, qty);
            lua_pop(L, 1);
            return SB_ERULE;
        }
        for (int k = 0; k < sp->nlines; k++)
            if (sp->lines[k].line == li) {
                snprintf(msg, ml, "%s: splits[%d] names line %d twice", F, si + 1, li + 1);
                lua_pop(L, 1);
                return SB_ERULE;
            }
        sp->lines[sp->nlines].line = li;
        sp->lines[sp->nlines].qty = qty;
        sp->nlines++;
        sum[li] += qty;
    }
    lua_pop(L, 1);
    return 0;
}

static int sb_take_route(sb_rules *r, int t, const sb_order *o, sb_decision *d, char *msg, size_t ml) {
    const char *F = "route.lua";
    lua_State *L = r->L;
    int rc;
    const char *branch;
    if ((rc = sb_dec_str(r, t, "branch", F, "", &branch, msg, ml)) < 0) return rc;
    if ((rc = sb_dec_str(r, t, "distribution_branch", F, "", &d->distribution_branch, msg, ml)) < 0) return rc;
    if ((rc = sb_dec_str(r, t, "reason", F, "", &d->route_reason, msg, ml)) < 0) return rc;
    if (d->distribution_branch && (rc = sb_check_branch(r, d->distribution_branch, msg, ml)) < 0) return rc;
    if ((rc = sb_dec_field(L, t, "splits", LUA_TTABLE, F, "", msg, ml)) < 0) return rc;
    int has_splits = rc == 1;
    if (has_splits == !!branch) {
        if (has_splits) lua_pop(L, 1);
        snprintf(msg, ml, "%s: the decision needs exactly one of 'branch' or 'splits'", F);
        return SB_ERULE;
    }
    if (branch) {
        if ((rc = sb_check_branch(r, branch, msg, ml)) < 0) return rc;
        d->nsplits = 1;
        d->splits[0].branch = branch;
        d->splits[0].nlines = 0;
        d->splits[0].lines = o->nlines ? sb_arena_alloc(&r->arena, (size_t)o->nlines * sizeof(sb_split_line)) : NULL;
        if (o->nlines && !d->splits[0].lines) { snprintf(msg, ml, "%s: out of memory", F); return SB_ERULE; }
        for (int i = 0; i < o->nlines; i++) {
            if (!(o->lines[i].qty > 0)) continue;
            d->splits[0].lines[d->splits[0].nlines].line = i;
            d->splits[0].lines[d->splits[0].nlines].qty = o->lines[i].qty;
            d->splits[0].nlines++;
        }
    } else {
        int sp = lua_gettop(L);
        size_t n = lua_rawlen(L, sp);
        if (n < 1 || n > SB_MAX_SPLITS) {
            lua_pop(L, 1);
            snprintf(msg, ml, "%s: %zu splits; an order splits into 1 to %d orders", F, n, SB_MAX_SPLITS);
            return SB_ERULE;
        }
        double *sum = o->nlines ? sb_arena_alloc(&r->arena, (size_t)o->nlines * sizeof *sum) : NULL;
        if (o->nlines && !sum) {
            lua_pop(L, 1);
            snprintf(msg, ml, "%s: out of memory", F);
            return SB_ERULE;
        }
        for (int i = 0; i < o->nlines; i++) sum[i] = 0;
        rc = 0;
        for (size_t i = 1; i <= n && !rc; i++) {
            lua_rawgeti(L, sp, (lua_Integer)i);
            rc = sb_take_split(r, (int)i - 1, o, sum, d, msg, ml);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        for (int i = 0; !rc && i < o->nlines; i++)
            if (fabs(sum[i] - o->lines[i].qty) > 1e-9) {
                snprintf(msg, ml, "%s: the splits give line %d (%s) %.15g, the order has %.15g",
                         F, i + 1, o->lines[i].sku ? o->lines[i].sku : "?", sum[i], o->lines[i].qty);
                rc = SB_ERULE;
            }
        if (rc) return rc;
        d->nsplits = (int)n;
    }
    sb_jw w;
    sb_buf b;
    sb_audit_begin(&w, &b);
    sb_jw_key(&w, "splits");
    sb_jw_arr(&w);
    for (int s = 0; s < d->nsplits; s++) {
        sb_jw_obj(&w);
        sb_audit_str(&w, "branch", d->splits[s].branch);
        sb_jw_key(&w, "lines");
        sb_jw_arr(&w);
        for (int i = 0; i < d->splits[s].nlines; i++) {
            sb_jw_obj(&w);
            sb_jw_kint(&w, "line", d->splits[s].lines[i].line + 1);
            sb_jw_key(&w, "qty");
            sb_jw_num(&w, d->splits[s].lines[i].qty);
            sb_jw_end_obj(&w);
        }
        sb_jw_end_arr(&w);
        sb_jw_end_obj(&w);
    }
    sb_jw_end_arr(&w);
    if (d->distribution_branch) sb_audit_str(&w, "distribution_branch", d->distribution_branch);
    if (d->route_reason) sb_audit_str(&w, "reason", d->route_reason);
    sb_audit(r, d, "route", &w, &b);
    return 0;
}

/* gl.lua returns nil, a string, or {account = string|nil} */
static int sb_take_gl(sb_rules *r, int t, sb_decision *d, char *msg, size_t ml) {
    const char *F = "gl.lua";
    lua_State *L = r->L;
    const char *acct = NULL;
    int rc;
    if (lua_type(L, t) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, t, &n);
        if (memchr(s, 0, n)) {      /* C would look up (and keep) only the part before it */
            snprintf(msg, ml, "%s: the account contains a NUL byte", F);
            return SB_ERULE;
        }
        if (n) acct = sb_dup(r, s, n);
    } else if (lua_istable(L, t)) {
        if ((rc = sb_dec_str(r, t, "account", F, "", &acct, msg, ml)) < 0) return rc;
    } else if (!lua_isnil(L, t)) {
        snprintf(msg, ml, "%s: the decision must be a table, a string or nil, got %s", F, luaL_typename(L, t));
        return SB_ERULE;
    }
    int found = acct && r->lookup && r->lookup->gl_exists ? r->lookup->gl_exists(r->lookup->ud, acct) : 1;
    if (found < 0) {
        snprintf(msg, ml, "%s: GL account '%s' could not be looked up: the database could not be read", F, acct);
        return found;
    }
    if (!found) {
        snprintf(msg, ml, "%s: GL account '%s' does not exist", F, acct);
        return SB_ERULE;
    }
    d->gl_account = acct;
    sb_jw w;
    sb_buf b;
    sb_audit_begin(&w, &b);
    sb_audit_str(&w, "account", acct);
    sb_audit(r, d, "gl", &w, &b);
    return 0;
}

/* ---- running one order ------------------------------------------------------------ */

static void sb_hold(sb_rules *r, sb_decision *d, int h, const char *msg) {
    char one[SB_ERRLEN];
    sb_escape_controls(msg, strlen(msg), one, sizeof one);    /* names from a rule may hold anything */
    d->error = sb_dup(r, one, strlen(one));
    d->error_hook = sb_rules_hook_names[h];
}

/* What the protected reader of one decision gets and gives back. */
typedef struct sb_take_args {
    sb_rules *r;
    int h;
    const sb_order *o;
    const char *key;            /* the order's customer_key */
    sb_decision *d;
    char *msg;
    size_t ml;
    int rc;
} sb_take_args;

/* [ud, decision] reads hook h's decision into a->d. Runs as a protected call with raw
 * access only, so neither a metamethod nor a memory error can reach the engine. */
static int sb_take_body(lua_State *L) {
    sb_take_args *a = lua_touserdata(L, 1);
    char f[32];
    snprintf(f, sizeof f, "%s.lua", sb_rules_hook_names[a->h]);
    if (a->h != SB_HOOK_GL && !lua_istable(L, 2)) {
        snprintf(a->msg, a->ml, "%s: the decision must be a table, got %s", f, luaL_typename(L, 2));
        a->rc = SB_ERULE;
        return 0;
    }
    switch (a->h) {
    case SB_HOOK_STATUS: a->rc = sb_take_status(a->r, 2, a->d, a->msg, a->ml); break;
    case SB_HOOK_VALIDATE: a->rc = sb_take_validate(a->r, 2, a->d, a->msg, a->ml); break;
    case SB_HOOK_CUSTOMER: a->rc = sb_take_customer(a->r, 2, a->key, a->d, a->msg, a->ml); break;
    case SB_HOOK_ROUTE: a->rc = sb_take_route(a->r, 2, a->o, a->d, a->msg, a->ml); break;
    default: a->rc = sb_take_gl(a->r, 2, a->d, a->msg, a->ml); break;
    }
    return 0;
}

/* Runs the order hooks on the normalised order at index o_idx. Returns 0 (a failure
 * holds the order through d->error), or SB_EINTR when the engine is stopping (nothing is
 * decided then). */
static int sb_run_hooks(sb_rules *r, int o_idx, sb_order *o, sb_decision *d) {
    lua_State *L = r->L;
    char msg[SB_ERRLEN], file[32];
    static const int order_hooks[] = {SB_HOOK_STATUS, SB_HOOK_VALIDATE, SB_HOOK_CUSTOMER,
                                      SB_HOOK_ROUTE, SB_HOOK_GL};
    const char *key = sb_get_str(r, o_idx, "customer_key");   /* before a hook can change it */
    d->download = 1;
    for (size_t k = 0; k < sizeof order_hooks / sizeof order_hooks[0]; k++) {
        int h = order_hooks[k];
        snprintf(file, sizeof file, "%s.lua", sb_rules_hook_names[h]);
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->hook_ref[h]);
        lua_pushvalue(L, o_idx);
        int rc = sb_rules_pcall(r, 1, 1, file, msg, sizeof msg);
        if (rc == SB_EINTR) return rc;
        if (rc < 0) { sb_hold(r, d, h, msg); return 0; }
        sb_take_args a = {r, h, o, key, d, msg, sizeof msg, 0};
        char perr[SB_ERRLEN];
        if (sb_rules_protect(r, sb_take_body, &a, 1, perr, sizeof perr) < 0) {
            snprintf(msg, sizeof msg, "%s: the decision cannot be read: %.400s", file, perr);
            a.rc = SB_ERULE;
        }
        if (a.rc < 0) {
            snprintf(r->traceback, sizeof r->traceback, "%s", msg);
            sb_hold(r, d, h, msg);
            return 0;
        }
        if (h == SB_HOOK_STATUS && !d->download) return 0;   /* skipped: nothing else to decide */
    }
    return 0;
}

static void sb_begin(sb_rules *r, sb_order *o, sb_decision *d) {
    if (!r->keep) sb_arena_reset(&r->arena);
    r->nseen = 0;
    r->traceback[0] = 0;
    if (o) memset(o, 0, sizeof *o);
    if (d) memset(d, 0, sizeof *d);
}

/* The normalised order at index no into *o, then the hooks. [-0, +0] */
static int sb_decide(sb_rules *r, int no, sb_order *o, sb_decision *d, char *err) {
    int rc = sb_fill_order(r, no, o);
    if (rc < 0) return sb_seterr(err, rc, "order %s: out of memory", o->order_id ? o->order_id : "(no orderId)");
    rc = sb_run_hooks(r, no, o, d);
    if (rc == SB_EINTR) return sb_seterr(err, rc, "order %s: not decided: the engine is stopping", o->order_id);
    return rc;
}

/* What the protected bodies of the public calls below get and give back. */
typedef struct sb_call_args {
    sb_rules *r;
    const char *body;           /* page_open, order_json */
    size_t len;
    int i;                      /* page_order */
    sb_order *o;
    sb_decision *d;
    int norders;                /* page_open */
    const sb_stock_input *in;   /* stock */
    long qty;
    char *err;
    int rc;
} sb_call_args;

/* An order's id read straight from Amazon's object at idx (raw), for an order the engine
 * cannot normalise: it is then still stored under its own id. [-0, +0] */
static void sb_raw_id(sb_rules *r, int idx, sb_order *o) {
    if (o->order_id || !lua_istable(r->L, idx)) return;
    const char *id = sb_get_str(r, idx, "orderId");
    if (id && *id && !memchr(id, 0, strlen(id))) o->order_id = id;
}

/* The order object is at the top of the stack; pops it. */
static int sb_run_order(sb_rules *r, sb_order *o, sb_decision *d, char *err) {
    lua_State *L = r->L;
    int top = lua_gettop(L) - 1, rc = 0;
    int obj = top + 1;
    char msg[SB_ERRLEN];
    if (!r->have_context) { rc = sb_seterr(err, SB_EINVAL, "rules: sb_rules_set_context was not called"); goto out; }
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->normalize_ref);
    lua_pushvalue(L, obj);
    if (sb_rules_pcall_trusted(r, 1, 3, msg, sizeof msg) < 0) {
        sb_raw_id(r, obj, o);
        rc = sb_seterr(err, SB_ERR, "order %s: %s", o->order_id ? o->order_id : "(no orderId)", msg);
        goto out;
    }
    if (lua_isnil(L, -3)) {
        const char *id = lua_tostring(L, -1), *why = lua_tostring(L, -2);
        if (id) o->order_id = sb_dup(r, id, strlen(id));
        sb_raw_id(r, obj, o);
        rc = sb_seterr(err, SB_EINVAL, "order %s: %s", id ? id : "(no orderId)", why ? why : "malformed");
        /* kept for a person as it came, whatever is wrong with it (from a page, the page
         * itself keeps it when the state has no room left to encode it) */
        if (!o->raw_json) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, r->encode_ref);
            lua_pushvalue(L, obj);
            if (sb_rules_pcall_trusted(r, 1, 1, msg, sizeof msg) == 0) {
                size_t n;
                const char *enc = lua_tolstring(L, -1, &n);
                o->raw_json = sb_dup(r, enc, n);
            }
        }
        goto out;
    }
    lua_pop(L, 2);
    rc = sb_decide(r, lua_gettop(L), o, d, err);
out:
    lua_settop(L, top);
    return rc;
}

/* The whole-call failure of a protected body (a memory error in the engine's own work):
 * the order is still reported, by its id when it is known. */
static int sb_call(sb_rules *r, lua_CFunction fn, sb_call_args *a, const char *what) {
    char msg[SB_ERRLEN];
    if (sb_rules_protect(r, fn, a, 0, msg, sizeof msg) < 0)
        return sb_seterr(a->err, SB_ENOMEM, "%s%s: %s", what,
                         a->o && a->o->order_id ? a->o->order_id : "", msg);
    return a->rc;
}

/* [ud] */
static int sb_page_open_body(lua_State *L) {
    sb_call_args *a = lua_touserdata(L, 1);
    sb_rules *r = a->r;
    char msg[SB_ERRLEN];
    luaL_unref(L, LUA_REGISTRYINDEX, r->page_ref);
    r->page_ref = LUA_NOREF;
    r->engine_mem = 0;
    lua_gc(L, LUA_GCCOLLECT);
    if (a->len > SB_RULES_MAX_BODY) {
        a->rc = sb_seterr(a->err, SB_EINVAL, "page: body of %zu bytes is over the %zu byte limit", a->len, SB_RULES_MAX_BODY);
        return 0;
    }
    size_t before = r->mem;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->decode_ref);
    lua_pushlstring(L, a->body, a->len);
    if (sb_rules_pcall_trusted(r, 1, 1, msg, sizeof msg) < 0) { a->rc = sb_seterr(a->err, SB_EINVAL, "page: invalid JSON: %s", msg); return 0; }
    if (!lua_istable(L, -1) || sb_rawfield(L, -1, "orders") != LUA_TTABLE) {
        a->rc = sb_seterr(a->err, SB_EINVAL, "page: the body has no \"orders\" array");
        return 0;
    }
    size_t n = lua_rawlen(L, -1);
    lua_pop(L, 1);
    if (n > INT_MAX) { a->rc = sb_seterr(a->err, SB_EINVAL, "page: %zu orders", n); return 0; }
    if (sb_rawfield(L, -1, "pagination") == LUA_TTABLE &&
        sb_rawfield(L, -1, "nextToken") == LUA_TSTRING && lua_rawlen(L, -1) > 0) {
        r->next_token = sb_strdup(lua_tostring(L, -1));
        if (!r->next_token) { a->rc = sb_seterr(a->err, SB_ENOMEM, "page: out of memory"); return 0; }
    }
    lua_settop(L, 2);
    r->page_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    r->engine_mem = r->mem > before ? r->mem - before : 0;    /* the page is the engine's, not the pack's */
    a->norders = (int)n;
    return 0;
}

void sb_rules_keep(sb_rules *r, int on) {
    sb_arena_reset(&r->arena);
    r->keep = on;
}

size_t sb_rules_kept_bytes(const sb_rules *r) { return r->arena.total; }

int sb_rules_page_open(sb_rules *r, const char *body, size_t len, int *norders,
                       const char **next_token, char *err) {
    sb_arena_reset(&r->arena);          /* what was kept belongs to the page before */
    sb_begin(r, NULL, NULL);
    *norders = 0;
    if (next_token) *next_token = NULL;
    free(r->next_token);
    r->next_token = NULL;
    sb_call_args a = {.r = r, .body = body, .len = len, .err = err};
    int rc = sb_call(r, sb_page_open_body, &a, "page: ");
    if (rc) return rc;
    *norders = a.norders;
    if (next_token) *next_token = r->next_token;
    return 0;
}

/* [ud] */
static int sb_page_order_body(lua_State *L) {
    sb_call_args *a = lua_touserdata(L, 1);
    sb_rules *r = a->r;
    int i = a->i;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->page_ref);
    sb_rawfield(L, -1, "orders");
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    if (lua_isnil(L, -1)) { a->rc = sb_seterr(a->err, SB_EINVAL, "page: no order %d", i); return 0; }
    a->rc = sb_run_order(r, a->o, a->d, a->err);
    return 0;
}

int sb_rules_page_order(sb_rules *r, int i, sb_order *order, sb_decision *dec, char *err) {
    sb_begin(r, order, dec);
    if (r->page_ref == LUA_NOREF) return sb_seterr(err, SB_EINVAL, "page: no page is open");
    order->page_index = i;
    sb_call_args a = {.r = r, .i = i, .o = order, .d = dec, .err = err};
    return sb_call(r, sb_page_order_body, &a, "order ");
}

/* [ud] */
static int sb_order_json_body(lua_State *L) {
    sb_call_args *a = lua_touserdata(L, 1);
    sb_rules *r = a->r;
    char msg[SB_ERRLEN];
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->decode_ref);
    lua_pushlstring(L, a->body, a->len);
    if (sb_rules_pcall_trusted(r, 1, 1, msg, sizeof msg) < 0) {
        a->rc = sb_seterr(a->err, SB_EINVAL, "order: invalid JSON: %s", msg);
        return 0;
    }
    a->rc = sb_run_order(r, a->o, a->d, a->err);
    return 0;
}

int sb_rules_order_json(sb_rules *r, const char *json, size_t len, sb_order *order,
                        sb_decision *dec, char *err) {
    sb_begin(r, order, dec);
    if (len > SB_RULES_MAX_BODY) return sb_seterr(err, SB_EINVAL, "order: %zu bytes is over the %zu byte limit", len, SB_RULES_MAX_BODY);
    order->raw_json = sb_dup(r, json, len);
    order->page_index = -1;
    sb_call_args a = {.r = r, .body = json, .len = len, .o = order, .d = dec, .err = err};
    return sb_call(r, sb_order_json_body, &a, "order ");
}

/* [ud] */
static int sb_stock_body(lua_State *L) {
    sb_call_args *a = lua_touserdata(L, 1);
    sb_rules *r = a->r;
    const sb_stock_input *in = a->in;
    char msg[SB_ERRLEN];
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->hook_ref[SB_HOOK_STOCK]);
    lua_createtable(L, 0, 3);
    lua_pushstring(L, in->sku ? in->sku : "");
    lua_setfield(L, -2, "sku");
    lua_pushnumber(L, in->buffer);
    lua_setfield(L, -2, "buffer");
    lua_createtable(L, in->nbranches, 0);
    for (int i = 0; i < in->nbranches; i++) {
        const sb_stock_branch *b = &in->branches[i];
        lua_createtable(L, 0, 6);
        lua_pushstring(L, b->branch ? b->branch : "");
        lua_setfield(L, -2, "branch");
        lua_pushnumber(L, b->soh);
        lua_setfield(L, -2, "soh");
        lua_pushnumber(L, b->open);
        lua_setfield(L, -2, "open");
        lua_pushnumber(L, b->open_etd7);
        lua_setfield(L, -2, "open_etd7");
        lua_pushnumber(L, b->open_etd30);
        lua_setfield(L, -2, "open_etd30");
        lua_pushnumber(L, b->open_no_etd);
        lua_setfield(L, -2, "open_no_etd");
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "branches");
    int rc = sb_rules_pcall(r, 1, 1, "stock.lua", msg, sizeof msg);
    if (rc < 0) { a->rc = sb_seterr(a->err, rc, "%s", msg); return 0; }
    lua_Number v = lua_tonumber(L, -1);
    if (lua_type(L, -1) != LUA_TNUMBER) {
        a->rc = sb_seterr(a->err, SB_ERULE, "stock.lua: must return a number, got %s", luaL_typename(L, -1));
        return 0;
    }
    if (!isfinite(v) || v < 0 || v != floor(v) || v > 2147483647.0) {
        a->rc = sb_seterr(a->err, SB_ERULE, "stock.lua: must return a whole number >= 0, got %.15g", (double)v);
        return 0;
    }
    a->qty = (long)v;
    return 0;
}

int sb_rules_stock(sb_rules *r, const sb_stock_input *in, long *qty, char *err) {
    sb_begin(r, NULL, NULL);
    *qty = 0;
    if (!r->have_context) return sb_seterr(err, SB_EINVAL, "rules: sb_rules_set_context was not called");
    sb_call_args a = {.r = r, .in = in, .err = err};
    int rc = sb_call(r, sb_stock_body, &a, "stock: ");
    if (!rc) *qty = a.qty;
    return rc;
}
