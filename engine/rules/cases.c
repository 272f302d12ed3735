/* cases.c: the case runner behind `rules test`. Each case file is decoded in a plain,
 * trusted Lua state of its own (not the rule state); the fixtures in it answer the
 * sb_lookup callbacks, its settings become sb_setting_value, and the host's decision is
 * turned back into a table that engine/rules/cases.lua compares with "expect".
 * The one idea: the runner drives the host only through the public rules.h calls, the
 * same way the order sync does, so a passing case means the real path works. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <lua-cjson.h>
#include "rules/rules_cases.h"
#include "rules/rules_int.h"
#include "core/embed.h"
#include "core/util.h"

#define SB_CASE_MAX_FILE ((size_t)4 << 20)

typedef struct sb_case {
    lua_State *L;
    int fix;            /* stack index of the merged case table */
} sb_case;

/* case[field][key] as a table on the stack, or nothing (returns 0). */
static int sb_case_get2(sb_case *c, const char *field, const char *key) {
    lua_State *L = c->L;
    if (lua_getfield(L, c->fix, field) != LUA_TTABLE) { lua_pop(L, 1); return 0; }
    if (lua_getfield(L, -1, key) != LUA_TTABLE) { lua_pop(L, 2); return 0; }
    lua_remove(L, -2);
    return 1;
}

static const char *sb_case_str(lua_State *L, int t, const char *k) {
    lua_getfield(L, t, k);
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1);     /* still anchored by the case table */
    return s;
}

static int sb_case_stock(void *ud, const char *sku, const char *branch, double *soh, double *open) {
    sb_case *c = ud;
    lua_State *L = c->L;
    if (!sb_case_get2(c, "stock", sku)) return SB_ENOTFOUND;
    int found = lua_getfield(L, -1, branch) == LUA_TTABLE;
    if (found) {
        *soh = sb_rules_num(L, -1, "soh");
        *open = sb_rules_num(L, -1, "open");
    }
    lua_pop(L, 2);
    return found ? 0 : SB_ENOTFOUND;
}

static int sb_case_product(void *ud, const char *sku, sb_product_info *out) {
    sb_case *c = ud;
    lua_State *L = c->L;
    if (!sb_case_get2(c, "products", sku)) return SB_ENOTFOUND;
    int t = lua_gettop(L);
    memset(out, 0, sizeof *out);
    out->sku = sku;
    out->asin = sb_case_str(L, t, "asin");
    out->name = sb_case_str(L, t, "name");
    lua_getfield(L, t, "batch_tracked");
    out->batch_tracked = lua_toboolean(L, -1);
    lua_getfield(L, t, "serial_tracked");
    out->serial_tracked = lua_toboolean(L, -1);
    lua_getfield(L, t, "is_kit");
    out->is_kit = lua_toboolean(L, -1);
    lua_pop(L, 3);
    out->buffer = sb_rules_num(L, t, "buffer");
    out->latency = (int)sb_rules_num(L, t, "latency");
    lua_pop(L, 1);
    return 0;
}

enum { SB_CASE_BY_ID, SB_CASE_BY_EMAIL, SB_CASE_BY_REF };

static int sb_case_customer(sb_case *c, int how, const char *key, sb_customer_info *out) {
    lua_State *L = c->L;
    int rc = SB_ENOTFOUND;
    if (lua_getfield(L, c->fix, "customers") != LUA_TTABLE) { lua_pop(L, 1); return rc; }
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n && rc; i++) {
        lua_rawgeti(L, -1, i);
        int t = lua_gettop(L);
        const char *v = sb_case_str(L, t, how == SB_CASE_BY_ID ? "channel_id" : how == SB_CASE_BY_EMAIL ? "email" : "ref");
        if (v && (how == SB_CASE_BY_REF ? !strcmp(v, key) : !strcasecmp(v, key))) {
            out->id = (int64_t)sb_rules_num(L, t, "id");
            out->ref = sb_case_str(L, t, "ref");
            out->channel_id = sb_case_str(L, t, "channel_id");
            out->email = sb_case_str(L, t, "email");
            out->name = sb_case_str(L, t, "name");
            out->group = sb_case_str(L, t, "group");
            rc = 0;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return rc;
}

static int sb_case_by_id(void *ud, const char *k, sb_customer_info *o) { return sb_case_customer(ud, SB_CASE_BY_ID, k, o); }
static int sb_case_by_email(void *ud, const char *k, sb_customer_info *o) { return sb_case_customer(ud, SB_CASE_BY_EMAIL, k, o); }
static int sb_case_by_ref(void *ud, const char *k, sb_customer_info *o) { return sb_case_customer(ud, SB_CASE_BY_REF, k, o); }

static int sb_case_in_list(sb_case *c, const char *field, const char *v) {
    lua_State *L = c->L;
    int found = 0;
    if (lua_getfield(L, c->fix, field) == LUA_TTABLE) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n && !found; i++) {
            lua_rawgeti(L, -1, i);
            const char *s = lua_tostring(L, -1);
            found = s && !strcmp(s, v);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return found;
}

static int sb_case_gl(void *ud, const char *code) { return sb_case_in_list(ud, "gl_codes", code); }
static int sb_case_group(void *ud, const char *name) { return sb_case_in_list(ud, "groups", name); }

/* [-0, +1] reads and decodes a JSON file into the case state; nil + message on failure */
static int sb_case_load_json(lua_State *L, const char *path, char *msg, size_t ml) {
    char *buf = NULL, err[SB_ERRLEN];
    size_t len = 0;
    if (sb_file_read(path, &buf, &len, SB_CASE_MAX_FILE, err) < 0) {
        snprintf(msg, ml, "%s", err);
        return SB_EIO;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "sb.cjson");
    lua_getfield(L, -1, "decode");
    lua_remove(L, -2);
    lua_pushlstring(L, buf, len);
    free(buf);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        snprintf(msg, ml, "%s: invalid JSON: %s", path, lua_tostring(L, -1));
        lua_pop(L, 1);
        return SB_EINVAL;
    }
    if (!lua_istable(L, -1)) {
        snprintf(msg, ml, "%s: a case must be a JSON object", path);
        lua_pop(L, 1);
        return SB_EINVAL;
    }
    return 0;
}

static void sb_case_setf_str(lua_State *L, const char *k, const char *v) {
    if (!v) return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

/* [-0, +1] the decision as a table for cases.lua */
static void sb_case_push_got(lua_State *L, int rc, const char *err, const sb_decision *d) {
    static const char *const actions[] = {NULL, "insert", "update", "keep", "selected"};
    lua_newtable(L);
    lua_pushinteger(L, rc);
    lua_setfield(L, -2, "status");
    if (rc) sb_case_setf_str(L, "err", err);
    if (rc) return;
    lua_pushboolean(L, d->download);
    lua_setfield(L, -2, "download");
    sb_case_setf_str(L, "skip_reason", d->skip_reason);
    lua_pushboolean(L, d->attention);
    lua_setfield(L, -2, "attention");
    sb_case_setf_str(L, "attention_reason", d->attention_reason);
    if (d->customer_action >= 1 && d->customer_action <= 4) {
        lua_newtable(L);
        sb_case_setf_str(L, "action", actions[d->customer_action]);
        if (d->customer_id) { lua_pushinteger(L, (lua_Integer)d->customer_id); lua_setfield(L, -2, "id"); }
        sb_case_setf_str(L, "key", d->customer_key);
        sb_case_setf_str(L, "group", d->customer_group);
        sb_case_setf_str(L, "name", d->customer_name);
        lua_setfield(L, -2, "customer");
    }
    if (d->nsplits) {
        lua_createtable(L, d->nsplits, 0);
        for (int s = 0; s < d->nsplits; s++) {
            lua_newtable(L);
            sb_case_setf_str(L, "branch", d->splits[s].branch);
            lua_createtable(L, d->splits[s].nlines, 0);
            for (int i = 0; i < d->splits[s].nlines; i++) {
                lua_createtable(L, 0, 2);
                lua_pushinteger(L, d->splits[s].lines[i].line + 1);
                lua_setfield(L, -2, "line");
                lua_pushnumber(L, d->splits[s].lines[i].qty);
                lua_setfield(L, -2, "qty");
                lua_rawseti(L, -2, i + 1);
            }
            lua_setfield(L, -2, "lines");
            lua_rawseti(L, -2, s + 1);
        }
        lua_setfield(L, -2, "splits");
    }
    sb_case_setf_str(L, "distribution_branch", d->distribution_branch);
    sb_case_setf_str(L, "route_reason", d->route_reason);
    sb_case_setf_str(L, "gl_account", d->gl_account);
    sb_case_setf_str(L, "error", d->error);
    sb_case_setf_str(L, "error_hook", d->error_hook);
}

/* The settings object -> sb_setting_value[]; strings anchored in the case table. */
static int sb_case_settings(sb_case *c, sb_setting_value **out, int *n, char *msg, size_t ml) {
    lua_State *L = c->L;
    *out = NULL;
    *n = 0;
    if (lua_getfield(L, c->fix, "settings") != LUA_TTABLE) { lua_pop(L, 1); return 0; }
    int st = lua_gettop(L);
    int cap = 0;
    lua_pushnil(L);
    while (lua_next(L, st)) { cap++; lua_pop(L, 1); }
    sb_setting_value *v = calloc((size_t)cap + 1, sizeof *v);
    if (!v) { lua_pop(L, 1); snprintf(msg, ml, "out of memory"); return SB_ENOMEM; }
    lua_newtable(L);                                   /* anchor for converted strings */
    int anchor = lua_gettop(L);
    lua_pushvalue(L, anchor);
    lua_setfield(L, c->fix, "_anchor");
    int i = 0;
    lua_pushnil(L);
    while (lua_next(L, st)) {
        sb_setting_value *s = &v[i];
        s->name = lua_tostring(L, -2);
        switch (lua_type(L, -1)) {
        case LUA_TBOOLEAN: s->type = 'b'; s->value = lua_toboolean(L, -1) ? "true" : "false"; break;
        case LUA_TNUMBER: {
            double d = lua_tonumber(L, -1);
            s->type = 'i';
            lua_pushfstring(L, "%I", (LUA_INTEGER)d);
            s->value = lua_tostring(L, -1);
            lua_rawseti(L, anchor, (lua_Integer)luaL_len(L, anchor) + 1);
            break;
        }
        case LUA_TSTRING: s->type = 's'; s->value = lua_tostring(L, -1); break;
        case LUA_TTABLE:
            s->type = 'j';
            lua_getfield(L, LUA_REGISTRYINDEX, "sb.cjson");
            lua_getfield(L, -1, "encode");
            lua_remove(L, -2);
            lua_pushvalue(L, -2);
            if (lua_pcall(L, 1, 1, 0) != LUA_OK) { lua_pop(L, 1); s->value = NULL; break; }
            s->value = lua_tostring(L, -1);
            lua_rawseti(L, anchor, (lua_Integer)luaL_len(L, anchor) + 1);
            break;
        default: s->type = 's'; s->value = NULL; break;        /* null: not set */
        }
        i++;
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    *out = v;
    *n = i;
    return 0;
}

int sb_rules_run_case_file(sb_rules *r, const char *path, char *msg, size_t ml) {
    int rc = SB_ERR;
    sb_setting_value *settings = NULL;
    sb_branch_info *branches = NULL;
    msg[0] = 0;
    lua_State *L = luaL_newstate();
    if (!L) { snprintf(msg, ml, "out of memory"); return SB_ENOMEM; }
    luaL_openlibs(L);
    luaL_requiref(L, "cjson", luaopen_cjson, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "sb.cjson");
    const sb_embedded_file *ef = sb_embed_find("engine/rules/cases.lua");
    if (!ef || luaL_loadbufferx(L, ef->data, ef->len, "@engine/rules/cases.lua", "t") != LUA_OK) {
        snprintf(msg, ml, "cases.lua: %s", ef ? lua_tostring(L, -1) : "not embedded");
        goto out;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "sb.cjson");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) { snprintf(msg, ml, "cases.lua: %s", lua_tostring(L, -1)); goto out; }
    int helpers = lua_gettop(L);

    /* _base.json of the same folder, merged under the case */
    char base[4096];
    snprintf(base, sizeof base, "%s", path);
    char *slash = strrchr(base, '/');
    snprintf(slash ? slash + 1 : base, sizeof base - (size_t)(slash ? slash + 1 - base : 0), "_base.json");
    if ((rc = sb_case_load_json(L, path, msg, ml)) < 0) goto out;
    FILE *bf = fopen(base, "rb");
    if (bf) {
        fclose(bf);
        if ((rc = sb_case_load_json(L, base, msg, ml)) < 0) goto out;
        lua_getfield(L, helpers, "merge");
        lua_insert(L, -2);                 /* [case, merge, base] */
        lua_pushvalue(L, -3);
        if (lua_pcall(L, 2, 1, 0) != LUA_OK) { snprintf(msg, ml, "merge: %s", lua_tostring(L, -1)); rc = SB_ERR; goto out; }
        lua_remove(L, -2);
    }
    sb_case c = {L, lua_gettop(L)};

    /* context */
    int nset = 0, nbr = 0;
    if ((rc = sb_case_settings(&c, &settings, &nset, msg, ml)) < 0) goto out;
    if (lua_getfield(L, c.fix, "branches") == LUA_TTABLE) {
        nbr = (int)luaL_len(L, -1);
        branches = calloc((size_t)nbr + 1, sizeof *branches);
        for (int i = 0; branches && i < nbr; i++) {
            lua_rawgeti(L, -1, i + 1);
            if (lua_type(L, -1) == LUA_TSTRING) branches[i].name = lua_tostring(L, -1);
            else if (lua_istable(L, -1)) {
                branches[i].name = sb_case_str(L, lua_gettop(L), "name");
                branches[i].country = sb_case_str(L, lua_gettop(L), "country");
                branches[i].state = sb_case_str(L, lua_gettop(L), "state");
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    sb_lookup lk = {&c, sb_case_stock, sb_case_product, sb_case_by_id, sb_case_by_email,
                    sb_case_by_ref, sb_case_gl, sb_case_group};
    const char *today = sb_case_str(L, c.fix, "today");
    sb_rules_ctx ctx = {.integration = "case", .settings = settings, .nsettings = nset, .branches = branches,
                        .nbranches = nbr, .today = today ? today : "2026-03-02", .lookup = &lk};
    char err[SB_ERRLEN] = "";
    if ((rc = sb_rules_set_context(r, &ctx, err)) < 0) {
        snprintf(msg, ml, "context: %s", err);
        goto out;
    }

    /* run */
    if (lua_getfield(L, c.fix, "stock_item") == LUA_TTABLE) {
        int t = lua_gettop(L);
        sb_stock_branch sb[16];
        int n = 0;
        if (lua_getfield(L, t, "branches") == LUA_TTABLE) {
            for (lua_Integer i = 1; i <= luaL_len(L, -1) && n < 16; i++, n++) {
                lua_rawgeti(L, -1, i);
                int b = lua_gettop(L);
                sb[n] = (sb_stock_branch){sb_case_str(L, b, "branch"), sb_rules_num(L, b, "soh"),
                    sb_rules_num(L, b, "open"), sb_rules_num(L, b, "open_etd7"),
                    sb_rules_num(L, b, "open_etd30"), sb_rules_num(L, b, "open_no_etd")};
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
        sb_stock_input in = {sb_case_str(L, t, "sku"), sb_rules_num(L, t, "buffer"), n, sb};
        long qty = 0;
        int src = sb_rules_stock(r, &in, &qty, err);
        lua_newtable(L);
        lua_pushinteger(L, src);
        lua_setfield(L, -2, "status");
        if (src == 0) { lua_pushinteger(L, qty); lua_setfield(L, -2, "qty"); }
        else sb_case_setf_str(L, "stock_error", err);
    } else {
        lua_pop(L, 1);
        if (lua_getfield(L, c.fix, "order") != LUA_TTABLE) {
            snprintf(msg, ml, "the case has neither \"order\" nor \"stock_item\"");
            rc = SB_EINVAL;
            goto out;
        }
        lua_getfield(L, LUA_REGISTRYINDEX, "sb.cjson");
        lua_getfield(L, -1, "encode");
        lua_remove(L, -2);
        lua_insert(L, -2);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK) { snprintf(msg, ml, "order: %s", lua_tostring(L, -1)); rc = SB_EINVAL; goto out; }
        size_t jl;
        const char *json = lua_tolstring(L, -1, &jl);
        sb_order o;
        sb_decision d;
        int orc = sb_rules_order_json(r, json, jl, &o, &d, err);
        sb_case_push_got(L, orc, err, &d);
        if (orc == 0 && d.error) {
            lua_pushstring(L, sb_rules_last_traceback(r));
            lua_setfield(L, -2, "_traceback");
        }
    }
    /* compare: [.., got] */
    int got = lua_gettop(L);
    if (lua_getfield(L, c.fix, "expect") != LUA_TTABLE) {
        snprintf(msg, ml, "the case has no \"expect\" object");
        rc = SB_EINVAL;
        goto out;
    }
    lua_getfield(L, helpers, "check");
    lua_insert(L, -2);
    lua_pushvalue(L, got);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) { snprintf(msg, ml, "check: %s", lua_tostring(L, -1)); rc = SB_ERR; goto out; }
    if (lua_isnil(L, -1)) rc = 1;
    else {
        snprintf(msg, ml, "%s", lua_tostring(L, -1));
        rc = 0;
    }
out:
    free(settings);
    free(branches);
    lua_close(L);
    return rc;
}

static int sb_case_name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int sb_rules_run_cases(sb_rules *r, const char *dir, FILE *out, int *npass, int *nfail, char *err) {
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    *npass = *nfail = 0;
    if (!d) return sb_seterr(err, SB_EIO, "%s: cannot open the cases folder", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '_' || e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".json")) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, cap * sizeof *names);
            if (!nn) { rc = sb_seterr(err, SB_ENOMEM, "out of memory"); goto out; }
            names = nn;
        }
        if (!(names[n] = sb_strdup(e->d_name))) { rc = sb_seterr(err, SB_ENOMEM, "out of memory"); goto out; }
        n++;
    }
    if (n) qsort(names, n, sizeof *names, sb_case_name_cmp);
    for (size_t i = 0; i < n; i++) {
        char path[4096], msg[2048];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int res = sb_rules_run_case_file(r, path, msg, sizeof msg);
        if (res == 1) { (*npass)++; fprintf(out, "ok   %s\n", names[i]); }
        else { (*nfail)++; fprintf(out, "FAIL %s: %s\n", names[i], msg); }
    }
out:
    closedir(d);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}
