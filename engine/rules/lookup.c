/* lookup.c: what rules can read about the world: the look-up functions (stock,
 * available, product, customers, branch) that forward to the caller's sb_lookup
 * callbacks, and the context globals (settings, branches, today, integration) built once
 * per sb_rules_set_context.
 * The one idea: everything handed to Lua is a fresh copy or a read-only proxy, so a rule
 * can neither change what the engine sees nor what the next order sees. */
#include <stdlib.h>
#include <string.h>
#include "rules/rules_int.h"
#include "core/util.h"


static void sb_setfield_str(lua_State *L, const char *k, const char *v) {
    if (!v) return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

/* [-0, +0] raises unless the look-up callback succeeded or reported not-found */
static void sb_lookup_check(lua_State *L, int rc, const char *what) {
    if (rc != 0 && rc != SB_ENOTFOUND) luaL_error(L, "look-up %s failed: the database could not be read (code %d)", what, rc);
}

/* Argument i as a string the callbacks can take as C text: one with a NUL in it would be
 * read as shorter, and name something else. [-0, +0, e] */
static const char *sb_arg_name(lua_State *L, int i, size_t *len) {
    size_t n;
    const char *s = luaL_checklstring(L, i, &n);
    if (memchr(s, 0, n)) luaL_argerror(L, i, "contains a NUL byte");
    if (len) *len = n;
    return s;
}

/* Asks the stock callback about the strings at stack indices 1 and 2, once per SKU and
 * branch per call: a rule routing an order asks about the same pairs for every candidate
 * branch and again when it splits. Returns 0 or SB_ENOTFOUND; raises on a failed
 * look-up. [-0, +0] */
static int sb_stock_of(lua_State *L, const char *what, double *soh, double *open) {
    sb_rules *r = sb_rules_of(L);
    size_t sl, bl;
    const char *sku = sb_arg_name(L, 1, &sl), *branch = sb_arg_name(L, 2, &bl);
    *soh = *open = 0;
    if (!r->lookup || !r->lookup->stock) return SB_ENOTFOUND;
    for (int i = 0; i < r->nstock_memo; i++) {
        const sb_stock_memo *m = &r->stock_memo[i];
        if (m->skulen == sl && m->branchlen == bl && !memcmp(m->sku, sku, sl) && !memcmp(m->branch, branch, bl)) {
            *soh = m->soh;
            *open = m->open;
            return m->rc;
        }
    }
    int rc = r->lookup->stock(r->lookup->ud, sku, branch, soh, open);
    sb_lookup_check(L, rc, what);
    if (r->nstock_memo < SB_RULES_STOCK_CACHE && sl < SB_RULES_STOCK_KEY && bl < SB_RULES_STOCK_KEY) {
        sb_stock_memo *m = &r->stock_memo[r->nstock_memo++];
        memcpy(m->sku, sku, sl);
        memcpy(m->branch, branch, bl);
        m->skulen = (unsigned char)sl;
        m->branchlen = (unsigned char)bl;
        m->rc = rc;
        m->soh = *soh;
        m->open = *open;
    }
    return rc;
}

/* stock(sku, branch) -> {soh=, open=} | nil   [-0, +1] */
static int sb_l_stock(lua_State *L) {
    double soh, open;
    if (sb_stock_of(L, "stock", &soh, &open)) { lua_pushnil(L); return 1; }
    lua_createtable(L, 0, 2);
    lua_pushnumber(L, soh);
    lua_setfield(L, -2, "soh");
    lua_pushnumber(L, open);
    lua_setfield(L, -2, "open");
    return 1;
}

/* available(sku, branch) -> soh - open at branch, or 0 when it has no stock of sku
 * [-0, +1]. The number `stock` gives as s.soh - s.open, without a table: the default
 * route asks it for every line and candidate branch of every order. */
static int sb_l_available(lua_State *L) {
    double soh, open;
    if (sb_stock_of(L, "available", &soh, &open)) lua_pushinteger(L, 0);
    else lua_pushnumber(L, soh - open);
    return 1;
}

/* product(sku) -> {sku, asin, name, batch_tracked, serial_tracked, is_kit, buffer, latency} | nil */
static int sb_l_product(lua_State *L) {
    sb_rules *r = sb_rules_of(L);
    const char *sku = sb_arg_name(L, 1, NULL);
    sb_product_info p = {0};
    if (!r->lookup || !r->lookup->product) { lua_pushnil(L); return 1; }
    int rc = r->lookup->product(r->lookup->ud, sku, &p);
    sb_lookup_check(L, rc, "product");
    if (rc) { lua_pushnil(L); return 1; }
    lua_createtable(L, 0, 8);
    sb_setfield_str(L, "sku", p.sku ? p.sku : sku);
    sb_setfield_str(L, "asin", p.asin);
    sb_setfield_str(L, "name", p.name);
    lua_pushboolean(L, p.batch_tracked);
    lua_setfield(L, -2, "batch_tracked");
    lua_pushboolean(L, p.serial_tracked);
    lua_setfield(L, -2, "serial_tracked");
    lua_pushboolean(L, p.is_kit);
    lua_setfield(L, -2, "is_kit");
    lua_pushnumber(L, p.buffer);
    lua_setfield(L, -2, "buffer");
    lua_pushinteger(L, p.latency);
    lua_setfield(L, -2, "latency");
    return 1;
}

enum { SB_BY_ID, SB_BY_EMAIL, SB_BY_REF };

/* customer_by_id/email/ref(x) -> {id, ref, channel_id, email, name, group} | nil.
 * The ids returned are remembered for this call: a customer decision may only name a
 * customer a look-up produced. */
static int sb_l_customer(lua_State *L) {
    sb_rules *r = sb_rules_of(L);
    int how = (int)lua_tointeger(L, lua_upvalueindex(1));
    if (lua_isnoneornil(L, 1)) { lua_pushnil(L); return 1; }
    const char *key = sb_arg_name(L, 1, NULL);
    sb_customer_info c = {0};
    int (*fn)(void *, const char *, sb_customer_info *) = NULL;
    if (r->lookup)
        fn = how == SB_BY_ID ? r->lookup->customer_by_id
           : how == SB_BY_EMAIL ? r->lookup->customer_by_email : r->lookup->customer_by_ref;
    if (!fn || !*key) { lua_pushnil(L); return 1; }
    int rc = fn(r->lookup->ud, key, &c);
    sb_lookup_check(L, rc, how == SB_BY_ID ? "customer_by_id" : how == SB_BY_EMAIL ? "customer_by_email" : "customer_by_ref");
    if (rc) { lua_pushnil(L); return 1; }
    if (r->nseen < SB_RULES_MAX_SEEN) r->seen_ids[r->nseen++] = c.id;
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, (lua_Integer)c.id);
    lua_setfield(L, -2, "id");
    sb_setfield_str(L, "ref", c.ref);
    sb_setfield_str(L, "channel_id", c.channel_id);
    sb_setfield_str(L, "email", c.email);
    sb_setfield_str(L, "name", c.name);
    sb_setfield_str(L, "group", c.group && *c.group ? c.group : NULL);
    return 1;
}

int sb_rules_seen_id(const sb_rules *r, int64_t id) {
    for (int i = 0; i < r->nseen; i++)
        if (r->seen_ids[i] == id) return 1;
    return 0;
}

int sb_rules_branch_exists(const sb_rules *r, const char *name) {
    for (int i = 0; i < r->nbranches; i++)
        if (!strcmp(r->branch_names[i], name)) return 1;
    return 0;
}

void sb_rules_open_lookups(sb_rules *r, lua_State *L) {
    (void)r;
    lua_pushcfunction(L, sb_l_stock);
    lua_setfield(L, -2, "stock");
    lua_pushcfunction(L, sb_l_available);
    lua_setfield(L, -2, "available");
    lua_pushcfunction(L, sb_l_product);
    lua_setfield(L, -2, "product");
    static const char *const names[] = {"customer_by_id", "customer_by_email", "customer_by_ref"};
    for (int i = 0; i < 3; i++) {
        lua_pushinteger(L, i);
        lua_pushcclosure(L, sb_l_customer, 1);
        lua_setfield(L, -2, names[i]);
    }
}

/* Pushes one setting's Lua value. [-0, +1] */
static int sb_push_setting(sb_rules *r, const sb_setting_value *s, char *err) {
    lua_State *L = r->L;
    const char *v = s->value;
    if (!v || !*v) { lua_pushnil(L); return 0; }
    switch (s->type) {
    case 'b':
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes")) lua_pushboolean(L, 1);
        else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no")) lua_pushboolean(L, 0);
        else return sb_seterr(err, SB_EINVAL, "setting %s: '%s' is not a boolean", s->name, v);
        return 0;
    case 'i': {
        char *end;
        long long n = strtoll(v, &end, 10);
        if (*end) return sb_seterr(err, SB_EINVAL, "setting %s: '%s' is not an integer", s->name, v);
        lua_pushinteger(L, n);
        return 0;
    }
    case 's':
        lua_pushstring(L, v);
        return 0;
    case 'j': {     /* decoded here, made read-only with the whole settings table */
        char msg[SB_ERRLEN];
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->decode_ref);
        lua_pushstring(L, v);
        if (sb_rules_pcall_trusted(r, 1, 1, msg, sizeof msg) < 0)
            return sb_seterr(err, SB_EINVAL, "setting %s: invalid JSON: %s", s->name, msg);
        return 0;
    }
    default:
        return sb_seterr(err, SB_EINVAL, "setting %s: unknown type '%c'", s->name, s->type);
    }
}

/* What the protected body of sb_rules_set_context gets. */
typedef struct sb_ctx_args {
    sb_rules *r;
    const sb_rules_ctx *ctx;
    char **names;
    char *err;
    int rc;
} sb_ctx_args;

/* [ud] builds settings, branches, today and integration into the API table */
static int sb_ctx_body(lua_State *L) {
    sb_ctx_args *a = lua_touserdata(L, 1);
    sb_rules *r = a->r;
    const sb_rules_ctx *ctx = a->ctx;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->api_ref);           /* [api] */
    int api = lua_gettop(L);
    lua_createtable(L, 0, ctx->nsettings);                  /* [api, settings] */
    for (int i = 0; i < ctx->nsettings; i++) {
        const sb_setting_value *s = &ctx->settings[i];
        if (!s->name) continue;
        if ((a->rc = sb_push_setting(r, s, a->err)) < 0) return 0;
        lua_setfield(L, -2, s->name);
    }
    /* branches: an array of {name, country, state}, read-only */
    lua_createtable(L, ctx->nbranches, 0);                  /* [api, settings, branches] */
    for (int i = 0; i < ctx->nbranches; i++) {
        lua_createtable(L, 0, 3);
        sb_setfield_str(L, "name", a->names[i]);
        const char *c = ctx->branches[i].country, *st = ctx->branches[i].state;
        sb_setfield_str(L, "country", c && *c ? c : NULL);
        sb_setfield_str(L, "state", st && *st ? st : NULL);
        lua_rawseti(L, -2, i + 1);
    }
    char msg[SB_ERRLEN];
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->deep_ro_ref);
    lua_insert(L, -2);
    lua_pushliteral(L, "branches");
    if (sb_rules_pcall_trusted(r, 2, 1, msg, sizeof msg) < 0) { a->rc = sb_seterr(a->err, SB_ERR, "%s", msg); return 0; }
    lua_setfield(L, api, "branches");
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->deep_ro_ref);
    lua_insert(L, -2);
    lua_pushliteral(L, "settings");
    if (sb_rules_pcall_trusted(r, 2, 1, msg, sizeof msg) < 0) { a->rc = sb_seterr(a->err, SB_ERR, "%s", msg); return 0; }
    lua_setfield(L, api, "settings");
    lua_pushstring(L, ctx->today ? ctx->today : "");
    lua_setfield(L, api, "today");
    lua_pushstring(L, ctx->integration ? ctx->integration : "");
    lua_setfield(L, api, "integration");
    return 0;
}

int sb_rules_set_context(sb_rules *r, const sb_rules_ctx *ctx, char *err) {
    int rc = 0;
    char **names = NULL;
    if (ctx->nbranches > 0 && !(names = calloc((size_t)ctx->nbranches, sizeof *names)))
        return sb_seterr(err, SB_ENOMEM, "rules: out of memory");
    for (int i = 0; i < ctx->nbranches; i++)
        if (!(names[i] = sb_strdup(ctx->branches[i].name ? ctx->branches[i].name : ""))) {
            rc = sb_seterr(err, SB_ENOMEM, "rules: out of memory");
            goto out;
        }
    sb_ctx_args a = {r, ctx, names, err, 0};
    char msg[SB_ERRLEN];
    if (sb_rules_protect(r, sb_ctx_body, &a, 0, msg, sizeof msg) < 0) {
        rc = sb_seterr(err, SB_ENOMEM, "rules: %s", msg);
        goto out;
    }
    if ((rc = a.rc) < 0) goto out;
    for (int i = 0; i < r->nbranches; i++) free(r->branch_names[i]);
    free(r->branch_names);
    r->branch_names = names;
    r->nbranches = ctx->nbranches;
    names = NULL;
    r->lookup = ctx->lookup;
    r->stop = ctx->stop;
    r->have_context = 1;
out:
    if (names) {
        for (int i = 0; i < ctx->nbranches; i++) free(names[i]);
        free(names);
    }
    return rc;
}
