/* order.c: one order from JSON to decisions: decode (cjson, in the state), normalise
 * (engine/rules/normalize.lua), run the hooks status -> validate -> customer -> route ->
 * gl, and read each decision back into C, validating it as it is read. Also the stock
 * hook. The one idea: C trusts nothing a rule returns; every field is type-checked and
 * every name (branch, customer, GL code, group) is checked against the context before it
 * reaches sb_decision, and a bad decision holds the order with "file: problem" instead of
 * failing the call. Strings handed out live in r->arena until the next call. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json/json.h"
#include "rules/rules_int.h"
#include "core/util.h"

#define SB_RULES_MAX_BODY ((size_t)8 << 20)

/* ---- small helpers -------------------------------------------------------------- */

static const char *sb_dup(sb_rules *r, const char *s, size_t n) {
    const char *p = sb_arena_strdup(&r->arena, s, n);
    return p ? p : "";
}

/* t[k] as an arena string, NULL when absent (or not a string). [-0, +0] */
static const char *sb_get_str(sb_rules *r, int t, const char *k) {
    lua_State *L = r->L;
    const char *out = NULL;
    if (lua_getfield(L, t, k) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        out = sb_dup(r, s, n);
    }
    lua_pop(L, 1);
    return out;
}

/* Audit entries are written with json.h's writer into one buffer per call, then kept in
 * the arena with the rest of the decision. */
static void sb_audit_begin(sb_jw *w, sb_buf *b) {
    sb_buf_init(b, 16384);
    sb_jw_init(w, b);
    sb_jw_obj(w);
}

static void sb_audit(sb_rules *r, sb_decision *d, const char *hook, sb_jw *w, sb_buf *b) {
    sb_jw_end_obj(w);
    if (d->naudit < (int)(sizeof d->audit / sizeof d->audit[0]) && b->data) {
        d->audit[d->naudit].hook = hook;
        d->audit[d->naudit].decision_json = sb_dup(r, b->data, b->len);
        d->naudit++;
    }
    sb_buf_free(b);
}

static const char *sb_typename_at(lua_State *L, int idx) {
    return luaL_typename(L, idx);
}

/* Reads optional field k of the table at t, which must be of type want (or nil).
 * Returns 1 with the value pushed, 0 with nothing pushed (absent), or SB_ERULE with msg. */
static int sb_dec_field(lua_State *L, int t, const char *k, int want, const char *file,
                        const char *ctx, char *msg, size_t msglen) {
    int ty = lua_getfield(L, t, k);
    if (ty == LUA_TNIL) { lua_pop(L, 1); return 0; }
    if (ty != want) {
        snprintf(msg, msglen, "%s: %s%s must be a %s, got %s", file, ctx, k,
                 lua_typename(L, want), sb_typename_at(L, -1));
        lua_pop(L, 1);
        return SB_ERULE;
    }
    return 1;
}

/* optional string field -> arena copy; NULL when absent or empty */
static int sb_dec_str(sb_rules *r, int t, const char *k, const char *file, const char *ctx,
                      const char **out, char *msg, size_t msglen) {
    int rc = sb_dec_field(r->L, t, k, LUA_TSTRING, file, ctx, msg, msglen);
    *out = NULL;
    if (rc <= 0) return rc;
    size_t n;
    const char *s = lua_tolstring(r->L, -1, &n);
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
    lua_getfield(L, t, "program_list");
    char progs[512];
    size_t pn = 0;
    progs[0] = 0;
    lua_Integer np = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= np; i++) {
        lua_rawgeti(L, -1, i);
        const char *p = lua_tostring(L, -1);
        if (p) pn += (size_t)snprintf(progs + pn, pn < sizeof progs ? sizeof progs - pn : 0, "%s%s", pn ? "," : "", p);
        if (pn >= sizeof progs) pn = sizeof progs - 1;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    o->programs = sb_dup(r, progs, strlen(progs));

    lua_getfield(L, t, "buyer");
    int b = lua_gettop(L);
    o->buyer_name = sb_get_str(r, b, "name");
    o->buyer_email = sb_get_str(r, b, "email");
    o->buyer_company = sb_get_str(r, b, "company");
    o->buyer_po = sb_get_str(r, b, "po");
    lua_pop(L, 1);

    lua_getfield(L, t, "ship");
    int a = lua_gettop(L);
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

    lua_getfield(L, t, "lines");
    int ls = lua_gettop(L);
    lua_Integer n = luaL_len(L, ls);
    o->nlines = (int)n;
    o->lines = n ? sb_arena_alloc(&r->arena, (size_t)n * sizeof *o->lines) : NULL;
    if (n && !o->lines) { lua_pop(L, 1); return SB_ENOMEM; }
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, ls, i);
        int l = lua_gettop(L);
        sb_order_line *ol = &o->lines[i - 1];
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
    if (d->skip_reason) sb_jw_kstr(&w, "reason", d->skip_reason);
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
    if (d->attention_reason) sb_jw_kstr(&w, "reason", d->attention_reason);
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
    if (group && r->lookup && r->lookup->group_exists && !r->lookup->group_exists(r->lookup->ud, group)) {
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
    sb_jw_kstr(&w, "action", action);
    if (a == SB_CUST_INSERT) {
        sb_jw_kstr(&w, "key", d->customer_key);
        if (group) sb_jw_kstr(&w, "group", group);
        if (name) sb_jw_kstr(&w, "name", name);
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

/* reads splits[si] at the top of the stack into d->splits[si] */
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
    lua_Integer n = luaL_len(L, ls);
    sb_split *sp = &d->splits[si];
    sp->branch = branch;
    sp->nlines = 0;
    sp->lines = n ? sb_arena_alloc(&r->arena, (size_t)n * sizeof *sp->lines) : NULL;
    if (n && !sp->lines) { lua_pop(L, 1); snprintf(msg, ml, "%s: too many lines", F); return SB_ERULE; }
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, ls, i);
        int e = lua_gettop(L);
        if (!lua_istable(L, e)) {
            snprintf(msg, ml, "%s: splits[%d].lines[%lld] must be a table {line=, qty=}, got %s", F, si + 1, (long long)i, luaL_typename(L, e));
            lua_pop(L, 2);
            return SB_ERULE;
        }
        lua_getfield(L, e, "line");
        lua_getfield(L, e, "qty");
        int okl = lua_type(L, -2) == LUA_TNUMBER, okq = lua_type(L, -1) == LUA_TNUMBER;
        double line = lua_tonumber(L, -2), qty = lua_tonumber(L, -1);
        lua_pop(L, 3);
        if (!okl || !okq) {
            snprintf(msg, ml, "%s: splits[%d].lines[%lld] needs numbers line= and qty=", F, si + 1, (long long)i);
            lua_pop(L, 1);
            return SB_ERULE;
        }
        if (line != floor(line) || line < 1 || line > o->nlines) {
            snprintf(msg, ml, "%s: splits[%d].lines[%lld].line %.15g is not a line of the order (1..%d)", F, si + 1, (long long)i, line, o->nlines);
            lua_pop(L, 1);
            return SB_ERULE;
        }
        if (!(qty > 0) || !isfinite(qty)) {
            snprintf(msg, ml, "%s: splits[%d].lines[%lld].qty must be > 0, got %.15g", F, si + 1, (long long)i, qty);
            lua_pop(L, 1);
            return SB_ERULE;
        }
        sp->lines[sp->nlines].line = (int)line - 1;
        sp->lines[sp->nlines].qty = qty;
        sp->nlines++;
        sum[(int)line - 1] += qty;
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
        for (int i = 0; i < o->nlines; i++) {
            if (!(o->lines[i].qty > 0)) continue;
            d->splits[0].lines[d->splits[0].nlines].line = i;
            d->splits[0].lines[d->splits[0].nlines].qty = o->lines[i].qty;
            d->splits[0].nlines++;
        }
    } else {
        int sp = lua_gettop(L);
        lua_Integer n = luaL_len(L, sp);
        if (n < 1 || n > SB_MAX_SPLITS) {
            lua_pop(L, 1);
            snprintf(msg, ml, "%s: %lld splits; an order splits into 1 to %d orders", F, (long long)n, SB_MAX_SPLITS);
            return SB_ERULE;
        }
        double sumbuf[64] = {0}, *sum = sumbuf;
        if (o->nlines > 64 && !(sum = calloc((size_t)o->nlines, sizeof *sum))) {
            lua_pop(L, 1);
            snprintf(msg, ml, "%s: out of memory", F);
            return SB_ERULE;
        }
        rc = 0;
        for (lua_Integer i = 1; i <= n && !rc; i++) {
            lua_rawgeti(L, sp, i);
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
        if (sum != sumbuf) free(sum);
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
        sb_jw_kstr(&w, "branch", d->splits[s].branch);
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
    if (d->distribution_branch) sb_jw_kstr(&w, "distribution_branch", d->distribution_branch);
    if (d->route_reason) sb_jw_kstr(&w, "reason", d->route_reason);
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
        if (n) acct = sb_dup(r, s, n);
    } else if (lua_istable(L, t)) {
        if ((rc = sb_dec_str(r, t, "account", F, "", &acct, msg, ml)) < 0) return rc;
    } else if (!lua_isnil(L, t)) {
        snprintf(msg, ml, "%s: the decision must be a table, a string or nil, got %s", F, luaL_typename(L, t));
        return SB_ERULE;
    }
    if (acct && r->lookup && r->lookup->gl_exists && !r->lookup->gl_exists(r->lookup->ud, acct)) {
        snprintf(msg, ml, "%s: GL account '%s' does not exist", F, acct);
        return SB_ERULE;
    }
    d->gl_account = acct;
    sb_jw w;
    sb_buf b;
    sb_audit_begin(&w, &b);
    sb_jw_kstr(&w, "account", acct);
    sb_audit(r, d, "gl", &w, &b);
    return 0;
}

/* ---- running one order ------------------------------------------------------------ */

static void sb_hold(sb_rules *r, sb_decision *d, int h, const char *msg) {
    d->error = sb_dup(r, msg, strlen(msg));
    d->error_hook = sb_rules_hook_names[h];
}

/* Runs the order hooks on the normalised order at index o_idx. Always returns 0: a
 * failure holds the order through d->error. */
static int sb_run_hooks(sb_rules *r, int o_idx, sb_order *o, sb_decision *d) {
    lua_State *L = r->L;
    char msg[SB_ERRLEN], file[32];
    static const int order_hooks[] = {SB_HOOK_STATUS, SB_HOOK_VALIDATE, SB_HOOK_CUSTOMER,
                                      SB_HOOK_ROUTE, SB_HOOK_GL};
    d->download = 1;
    for (size_t k = 0; k < sizeof order_hooks / sizeof order_hooks[0]; k++) {
        int h = order_hooks[k];
        snprintf(file, sizeof file, "%s.lua", sb_rules_hook_names[h]);
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->hook_ref[h]);
        lua_pushvalue(L, o_idx);
        if (sb_rules_pcall(r, 1, 1, file, msg, sizeof msg) < 0) { sb_hold(r, d, h, msg); return 0; }
        int t = lua_gettop(L), rc;
        if (h != SB_HOOK_GL && !lua_istable(L, t)) {
            snprintf(msg, sizeof msg, "%s: the decision must be a table, got %s", file, luaL_typename(L, t));
            rc = SB_ERULE;
        } else switch (h) {
            case SB_HOOK_STATUS: rc = sb_take_status(r, t, d, msg, sizeof msg); break;
            case SB_HOOK_VALIDATE: rc = sb_take_validate(r, t, d, msg, sizeof msg); break;
            case SB_HOOK_CUSTOMER: {
                lua_getfield(L, o_idx, "customer_key");
                const char *key = NULL;
                if (lua_type(L, -1) == LUA_TSTRING) { size_t n; const char *s = lua_tolstring(L, -1, &n); key = sb_dup(r, s, n); }
                lua_pop(L, 1);
                rc = sb_take_customer(r, t, key, d, msg, sizeof msg);
                break;
            }
            case SB_HOOK_ROUTE: rc = sb_take_route(r, t, o, d, msg, sizeof msg); break;
            default: rc = sb_take_gl(r, t, d, msg, sizeof msg); break;
        }
        lua_settop(L, t - 1);
        if (rc < 0) {
            snprintf(r->traceback, sizeof r->traceback, "%s", msg);
            sb_hold(r, d, h, msg);
            return 0;
        }
        if (h == SB_HOOK_STATUS && !d->download) return 0;   /* skipped: nothing else to decide */
    }
    return 0;
}

static void sb_begin(sb_rules *r, sb_order *o, sb_decision *d) {
    sb_arena_reset(&r->arena);
    r->nseen = 0;
    r->traceback[0] = 0;
    if (o) memset(o, 0, sizeof *o);
    if (d) memset(d, 0, sizeof *d);
}

/* The normalised order at index no into *o, then the hooks. [-0, +0] */
static int sb_decide(sb_rules *r, int no, sb_order *o, sb_decision *d, char *err) {
    int rc = sb_fill_order(r, no, o);
    if (rc < 0) return sb_seterr(err, rc, "order %s: out of memory", o->order_id);
    return sb_run_hooks(r, no, o, d);
}

/* The key of the registry table of orders sb_rules_page_prepare normalised ahead. */
static const char sb_prepared_key = 'p';

/* The order object is at the top of the stack; pops it. */
static int sb_run_order(sb_rules *r, sb_order *o, sb_decision *d, char *err) {
    lua_State *L = r->L;
    int top = lua_gettop(L) - 1, rc = 0;
    int obj = top + 1;
    char msg[SB_ERRLEN];
    if (!r->have_context) { rc = sb_seterr(err, SB_EINVAL, "rules: sb_rules_set_context was not called"); goto out; }
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->normalize_ref);
    lua_pushvalue(L, obj);
    if (sb_rules_pcall_trusted(r, 1, 3, msg, sizeof msg) < 0) { rc = sb_seterr(err, SB_ERR, "order: %s", msg); goto out; }
    if (lua_isnil(L, -3)) {
        const char *id = lua_tostring(L, -1), *why = lua_tostring(L, -2);
        if (id) o->order_id = sb_dup(r, id, strlen(id));
        rc = sb_seterr(err, SB_EINVAL, "order %s: %s", id ? id : "(no orderId)", why ? why : "malformed");
        /* kept for a person as it came, whatever is wrong with it */
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

int sb_rules_page_open(sb_rules *r, const char *body, size_t len, int *norders,
                       const char **next_token, char *err) {
    lua_State *L = r->L;
    int top = lua_gettop(L), rc = 0;
    char msg[SB_ERRLEN];
    sb_begin(r, NULL, NULL);
    *norders = 0;
    if (next_token) *next_token = NULL;
    free(r->next_token);
    r->next_token = NULL;
    luaL_unref(L, LUA_REGISTRYINDEX, r->page_ref);
    r->page_ref = LUA_NOREF;
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &sb_prepared_key);
    lua_gc(L, LUA_GCCOLLECT);
    if (len > SB_RULES_MAX_BODY) { rc = sb_seterr(err, SB_EINVAL, "page: body of %zu bytes is over the %zu byte limit", len, SB_RULES_MAX_BODY); goto out; }
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->decode_ref);
    lua_pushlstring(L, body, len);
    if (sb_rules_pcall_trusted(r, 1, 1, msg, sizeof msg) < 0) { rc = sb_seterr(err, SB_EINVAL, "page: invalid JSON: %s", msg); goto out; }
    if (!lua_istable(L, -1) || lua_getfield(L, -1, "orders") != LUA_TTABLE) {
        rc = sb_seterr(err, SB_EINVAL, "page: the body has no \"orders\" array");
        goto out;
    }
    lua_Integer n = luaL_len(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, -1, "pagination") == LUA_TTABLE &&
        lua_getfield(L, -1, "nextToken") == LUA_TSTRING && lua_rawlen(L, -1) > 0) {
        r->next_token = sb_strdup(lua_tostring(L, -1));
        if (!r->next_token) { rc = sb_seterr(err, SB_ENOMEM, "page: out of memory"); goto out; }
    }
    lua_settop(L, top + 1);
    r->page_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    *norders = (int)n;
    if (next_token) *next_token = r->next_token;
out:
    lua_settop(L, top);
    return rc;
}

int sb_rules_page_prepare(sb_rules *r, char *err) {
    lua_State *L = r->L;
    int top = lua_gettop(L);
    char msg[SB_ERRLEN];
    if (r->page_ref == LUA_NOREF) return sb_seterr(err, SB_EINVAL, "page: no page is open");
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->page_ref);
    lua_getfield(L, -1, "orders");
    int orders = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, orders);
    lua_createtable(L, (int)n, 0);
    int prep = lua_gettop(L);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->normalize_ref);
        lua_rawgeti(L, orders, i);
        /* an order that does not normalise stays out: sb_rules_page_order runs it again
         * and reports it as it always does */
        if (sb_rules_pcall_trusted(r, 1, 3, msg, sizeof msg) == 0 && lua_istable(L, -3)) {
            lua_pushvalue(L, -3);
            lua_rawseti(L, prep, i);
        }
        lua_settop(L, prep);
    }
    lua_rawsetp(L, LUA_REGISTRYINDEX, &sb_prepared_key);
    lua_settop(L, top);
    return 0;
}

int sb_rules_page_order(sb_rules *r, int i, sb_order *order, sb_decision *dec, char *err) {
    lua_State *L = r->L;
    sb_begin(r, order, dec);
    if (r->page_ref == LUA_NOREF) return sb_seterr(err, SB_EINVAL, "page: no page is open");
    int base = lua_gettop(L);
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &sb_prepared_key) == LUA_TTABLE &&
        lua_rawgeti(L, -1, (lua_Integer)i + 1) == LUA_TTABLE) {
        /* normalised ahead by sb_rules_page_prepare; used once */
        lua_pushnil(L);
        lua_rawseti(L, base + 1, (lua_Integer)i + 1);
        int rc;
        order->page_index = i;
        if (!r->have_context) rc = sb_seterr(err, SB_EINVAL, "rules: sb_rules_set_context was not called");
        else rc = sb_decide(r, base + 2, order, dec, err);
        lua_settop(L, base);
        return rc;
    }
    lua_settop(L, base);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->page_ref);
    lua_getfield(L, -1, "orders");
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    lua_replace(L, -3);
    lua_pop(L, 1);
    if (lua_isnil(L, -1)) { lua_pop(L, 1); return sb_seterr(err, SB_EINVAL, "page: no order %d", i); }
    order->page_index = i;
    return sb_run_order(r, order, dec, err);
}

int sb_rules_order_json(sb_rules *r, const char *json, size_t len, sb_order *order,
                        sb_decision *dec, char *err) {
    lua_State *L = r->L;
    char msg[SB_ERRLEN];
    sb_begin(r, order, dec);
    if (len > SB_RULES_MAX_BODY) return sb_seterr(err, SB_EINVAL, "order: %zu bytes is over the %zu byte limit", len, SB_RULES_MAX_BODY);
    order->raw_json = sb_dup(r, json, len);
    order->page_index = -1;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->decode_ref);
    lua_pushlstring(L, json, len);
    if (sb_rules_pcall_trusted(r, 1, 1, msg, sizeof msg) < 0)
        return sb_seterr(err, SB_EINVAL, "order: invalid JSON: %s", msg);
    return sb_run_order(r, order, dec, err);
}

int sb_rules_stock(sb_rules *r, const sb_stock_input *in, long *qty, char *err) {
    lua_State *L = r->L;
    int top = lua_gettop(L), rc = 0;
    char msg[SB_ERRLEN];
    sb_begin(r, NULL, NULL);
    *qty = 0;
    if (!r->have_context) { rc = sb_seterr(err, SB_EINVAL, "rules: sb_rules_set_context was not called"); goto out; }
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
    if (sb_rules_pcall(r, 1, 1, "stock.lua", msg, sizeof msg) < 0) { rc = sb_seterr(err, SB_ERULE, "%s", msg); goto out; }
    int isnum = 0;
    lua_Number v = lua_tonumberx(L, -1, &isnum);
    if (lua_type(L, -1) != LUA_TNUMBER || !isnum) {
        rc = sb_seterr(err, SB_ERULE, "stock.lua: must return a number, got %s", luaL_typename(L, -1));
        goto out;
    }
    if (!isfinite(v) || v < 0 || v != floor(v) || v > 2147483647.0) {
        rc = sb_seterr(err, SB_ERULE, "stock.lua: must return a whole number >= 0, got %.15g", (double)v);
        goto out;
    }
    *qty = (long)v;
out:
    lua_settop(L, top);
    return rc;
}
