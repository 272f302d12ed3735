/* pattern.c: string.find, match, gmatch and gsub for rule packs, with the semantics of
 * Lua 5.4.4 (reference manual §6.4 and §6.4.1) and a step meter.
 *
 * The matcher is the classic recursive backtracker of Lua patterns: one C frame per
 * capture, per quantifier try and per '?' alternative, and a loop for everything that
 * needs no backtracking. It recurses at the same places as Lua's, so its depth limit
 * (200 frames, "pattern too complex") trips on the same patterns, and it checks the
 * pattern lazily as it walks it, so a malformed pattern fails exactly when Lua's does
 * (string.find('', 'x%') is nil, not an error).
 *
 * The one idea to read it by: every loop pays steps into the meter of its sb_pat, and
 * every SB_PATTERN_TICK steps the meter calls hooks->charge, which may longjmp out of
 * any point of a match. So nothing here lives outside the Lua stack or the C stack: the
 * match state is a C local (the gmatch iterator's position is a userdata), gsub builds
 * its result in a luaL_Buffer, and nothing needs undoing when a charge raises. */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <lauxlib.h>
#include "rules/pattern.h"

#define SB_PAT_MAXDEPTH 200         /* Lua's MAXCCALLS: matcher frames per match */
#define SB_PAT_MAXCAPS 32           /* Lua's LUA_MAXCAPTURES */
#define SB_PAT_OPEN (-1)            /* capture length while its ')' is not reached */
#define SB_PAT_POS (-2)             /* capture length of a position capture "()" */
#define SB_PAT_SPECIALS "^$*+?.([%-"

typedef struct sb_pat_cap {
    const char *at;
    ptrdiff_t len;                  /* or SB_PAT_OPEN, SB_PAT_POS */
} sb_pat_cap;

/* One match under way. Subject and pattern are Lua strings, so *s_end and *p_end are
 * the '\0' Lua keeps after every string: the matcher reads it as Lua's does (a frontier
 * at the end of the subject sees '\0', "%" at the end of the pattern sees '\0'). */
typedef struct sb_pat {
    lua_State *L;
    const sb_pattern_hooks *hooks;
    const char *s0, *s_end;         /* subject */
    const char *p_end;              /* end of the pattern */
    int depth;                      /* matcher frames left */
    int ncap;                       /* captures opened so far */
    long steps;                     /* done since the last charge */
    sb_pat_cap cap[SB_PAT_MAXCAPS];
} sb_pat;

static const char *sb_pat_match(sb_pat *m, const char *s, const char *p);

/* ---- the meter --------------------------------------------------------------------- */

/* Hands the steps done so far to the hook; may raise. [-0, +0, e] */
static void sb_pat_charge(sb_pat *m) {
    long n = m->steps;
    m->steps = 0;
    if (n > 0 && m->hooks && m->hooks->charge) m->hooks->charge(m->L, n);
}

static inline void sb_pat_step(sb_pat *m, long n) {
    m->steps += n;
    if (m->steps >= SB_PATTERN_TICK) sb_pat_charge(m);
}

static void sb_pat_init(sb_pat *m, lua_State *L, const sb_pattern_hooks *hooks,
                        const char *s, size_t ls, const char *p_end) {
    m->L = L;
    m->hooks = hooks;
    m->s0 = s;
    m->s_end = s + ls;
    m->p_end = p_end;
    m->depth = SB_PAT_MAXDEPTH;
    m->ncap = 0;
    m->steps = 0;
}

/* ---- single-character items -------------------------------------------------------- */

/* Does byte c belong to class letter cl (%a, %D, ...)? Any other cl stands for itself. */
static int sb_pat_class(int c, int cl) {
    int in;
    switch (tolower(cl)) {
    case 'a': in = isalpha(c); break;
    case 'c': in = iscntrl(c); break;
    case 'd': in = isdigit(c); break;
    case 'g': in = isgraph(c); break;
    case 'l': in = islower(c); break;
    case 'p': in = ispunct(c); break;
    case 's': in = isspace(c); break;
    case 'u': in = isupper(c); break;
    case 'w': in = isalnum(c); break;
    case 'x': in = isxdigit(c); break;
    case 'z': in = c == 0; break;   /* deprecated in 5.2, still in 5.4 */
    default: return cl == c;
    }
    return islower(cl) ? in != 0 : in == 0;
}

/* The end of the single-character item at p ('.', 'x', '%x' or a set): errors on "%" at
 * the end and on a set without its ']'. The first character of a set (after a '^') is
 * in the set even when it is ']'. Charges the bytes of a set. */
static const char *sb_pat_item_end(sb_pat *m, const char *p) {
    const char *start = p;
    char c = *p++;
    if (c == '%') {
        if (p == m->p_end) luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c != '[') return p;
    if (*p == '^') p++;
    do {
        if (p == m->p_end) luaL_error(m->L, "malformed pattern (missing ']')");
        c = *p++;
        if (c == '%' && p < m->p_end) p++;          /* "%]" is no end */
    } while (*p != ']');
    sb_pat_step(m, p - start);
    return p + 1;
}

/* Is byte c in the set that opens at p ('[') and closes at close (its ']')? */
static int sb_pat_in_set(int c, const char *p, const char *close) {
    int want = 1;
    p++;
    if (*p == '^') {
        want = 0;
        p++;
    }
    for (; p < close; p++) {
        if (*p == '%') {
            p++;
            if (sb_pat_class(c, (unsigned char)*p)) return want;
        } else if (p[1] == '-' && p + 2 < close) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2]) return want;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return want;
        }
    }
    return !want;
}

/* Does the subject byte at s match the item p..ep? Never past the end of the subject. */
static int sb_pat_single(sb_pat *m, const char *s, const char *p, const char *ep) {
    if (s >= m->s_end) return 0;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case '%': return sb_pat_class(c, (unsigned char)p[1]);
    case '[':
        sb_pat_step(m, ep - p);
        return sb_pat_in_set(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

/* ---- the matcher ------------------------------------------------------------------- */

/* The functions of this section touch the Lua stack only to raise: [-0, +0, e]. */

/* "%bxy" at s (p points at x): the end of the balanced run, or NULL. */
static const char *sb_pat_balance(sb_pat *m, const char *s, const char *p) {
    if (p >= m->p_end - 1) {
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
        return NULL;
    }
    if (s >= m->s_end || *s != p[0]) return NULL;
    long open = 1;
    for (s++; s < m->s_end; s++) {
        sb_pat_step(m, 1);
        if (*s == p[1]) {
            if (--open == 0) return s + 1;
        } else if (*s == p[0]) {
            open++;
        }
    }
    return NULL;
}

/* "%1".."%9" at s (digit is the character after '%'): the end of the copy, or NULL. A
 * position capture never matches (its length is no length). */
static const char *sb_pat_backref(sb_pat *m, const char *s, int digit) {
    int i = digit - '1';
    if (i < 0 || i >= m->ncap || m->cap[i].len == SB_PAT_OPEN) {
        luaL_error(m->L, "invalid capture index %%%d", i + 1);
        return NULL;
    }
    if (m->cap[i].len == SB_PAT_POS) return NULL;
    size_t len = (size_t)m->cap[i].len;
    if ((size_t)(m->s_end - s) < len) return NULL;
    sb_pat_step(m, (long)len);
    return memcmp(m->cap[i].at, s, len) ? NULL : s + len;
}

/* Item p..ep repeated greedily from s, then the rest of the pattern after ep's
 * quantifier: the longest run first, one character shorter on each failure. */
static const char *sb_pat_greedy(sb_pat *m, const char *s, const char *p, const char *ep) {
    ptrdiff_t n = 0;
    while (sb_pat_single(m, s + n, p, ep)) {
        n++;
        sb_pat_step(m, 1);
    }
    for (; n >= 0; n--) {
        const char *e = sb_pat_match(m, s + n, ep + 1);
        if (e) return e;
    }
    return NULL;
}

/* Item p..ep repeated lazily ('-'): the rest of the pattern first, one more item on
 * each failure. */
static const char *sb_pat_lazy(sb_pat *m, const char *s, const char *p, const char *ep) {
    for (;;) {
        const char *e = sb_pat_match(m, s, ep + 1);
        if (e) return e;
        if (!sb_pat_single(m, s, p, ep)) return NULL;
        s++;
        sb_pat_step(m, 1);
    }
}

/* '(' at s: opens capture number ncap (a position capture when what is SB_PAT_POS) and
 * matches the rest p; the capture is dropped again if that fails. */
static const char *sb_pat_open(sb_pat *m, const char *s, const char *p, ptrdiff_t what) {
    if (m->ncap >= SB_PAT_MAXCAPS) {
        luaL_error(m->L, "too many captures");
        return NULL;
    }
    m->cap[m->ncap].at = s;
    m->cap[m->ncap].len = what;
    m->ncap++;
    const char *e = sb_pat_match(m, s, p);
    if (!e) m->ncap--;
    return e;
}

/* ')' at s: closes the innermost open capture and matches the rest p; reopens it if
 * that fails. */
static const char *sb_pat_close(sb_pat *m, const char *s, const char *p) {
    int i = m->ncap - 1;
    while (i >= 0 && m->cap[i].len != SB_PAT_OPEN) i--;
    if (i < 0) {
        luaL_error(m->L, "invalid pattern capture");
        return NULL;
    }
    m->cap[i].len = s - m->cap[i].at;
    const char *e = sb_pat_match(m, s, p);
    if (!e) m->cap[i].len = SB_PAT_OPEN;
    return e;
}

/* Matches pattern p (to p_end) at subject position s: the end of the match, or NULL.
 * The items that cannot backtrack (a plain item, %b, %f, a back-reference, a failed
 * optional item) go round the loop; the others recurse, one frame per alternative. */
static const char *sb_pat_match(sb_pat *m, const char *s, const char *p) {
    if (m->depth-- == 0) {
        luaL_error(m->L, "pattern too complex");
        return NULL;
    }
    while (p != m->p_end) {
        sb_pat_step(m, 1);
        switch (*p) {
        case '(':
            if (p[1] == ')') s = sb_pat_open(m, s, p + 2, SB_PAT_POS);
            else s = sb_pat_open(m, s, p + 1, SB_PAT_OPEN);
            goto out;
        case ')':
            s = sb_pat_close(m, s, p + 1);
            goto out;
        case '$':
            if (p + 1 == m->p_end) {             /* an anchor only at the very end */
                if (s != m->s_end) s = NULL;
                goto out;
            }
            break;
        case '%':
            switch (p[1]) {
            case 'b':
                s = sb_pat_balance(m, s, p + 2);
                if (!s) goto out;
                p += 4;
                continue;
            case 'f': {
                p += 2;
                if (*p != '[') luaL_error(m->L, "missing '[' after '%%f' in pattern");
                const char *ep = sb_pat_item_end(m, p);
                int before = s == m->s0 ? '\0' : (unsigned char)s[-1];
                int here = (unsigned char)*s;     /* '\0' at the end of the subject */
                sb_pat_step(m, 2 * (ep - p));
                if (!sb_pat_in_set(before, p, ep - 1) && sb_pat_in_set(here, p, ep - 1)) {
                    p = ep;
                    continue;
                }
                s = NULL;
                goto out;
            }
            case '0': case '1': case '2': case '3': case '4':
            case '5': case '6': case '7': case '8': case '9':
                s = sb_pat_backref(m, s, (unsigned char)p[1]);
                if (!s) goto out;
                p += 2;
                continue;
            default:
                break;
            }
            break;
        default:
            break;
        }
        /* a single-character item, maybe with a quantifier after it */
        const char *ep = sb_pat_item_end(m, p);
        if (!sb_pat_single(m, s, p, ep)) {
            if (*ep == '*' || *ep == '?' || *ep == '-') {   /* zero times will do */
                p = ep + 1;
                continue;
            }
            s = NULL;
            goto out;
        }
        switch (*ep) {
        case '?': {
            const char *e = sb_pat_match(m, s + 1, ep + 1);
            if (e) {
                s = e;
                goto out;
            }
            p = ep + 1;
            continue;
        }
        case '+': s = sb_pat_greedy(m, s + 1, p, ep); goto out;
        case '*': s = sb_pat_greedy(m, s, p, ep); goto out;
        case '-': s = sb_pat_lazy(m, s, p, ep); goto out;
        default:
            s++;
            p = ep;
            continue;
        }
    }
out:
    m->depth++;
    return s;
}

/* ---- captures ---------------------------------------------------------------------- */

/* Capture i of a match s..e (with no captures, capture 0 is the whole match): sets *at
 * and returns the length, or pushes the position and returns SB_PAT_POS. [-0, +(0|1), e] */
static ptrdiff_t sb_pat_cap_get(sb_pat *m, int i, const char *s, const char *e,
                                const char **at) {
    if (i >= m->ncap) {
        if (i != 0) luaL_error(m->L, "invalid capture index %%%d", i + 1);
        *at = s;
        return e - s;
    }
    *at = m->cap[i].at;
    if (m->cap[i].len == SB_PAT_OPEN) luaL_error(m->L, "unfinished capture");
    if (m->cap[i].len == SB_PAT_POS) lua_pushinteger(m->L, (m->cap[i].at - m->s0) + 1);
    return m->cap[i].len;
}

/* [-0, +1, e] */
static void sb_pat_push_cap(sb_pat *m, int i, const char *s, const char *e) {
    const char *at;
    ptrdiff_t len = sb_pat_cap_get(m, i, s, e, &at);
    if (len != SB_PAT_POS) lua_pushlstring(m->L, at, (size_t)len);
}

/* Pushes every capture, or the whole match s..e when there are none (and s is set).
 * Returns how many. [-0, +n, e] */
static int sb_pat_push_caps(sb_pat *m, const char *s, const char *e) {
    int n = (m->ncap == 0 && s) ? 1 : m->ncap;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++) sb_pat_push_cap(m, i, s, e);
    return n;
}

/* ---- find and match ---------------------------------------------------------------- */

/* A 1-based start position as Lua reads it (negative counts from the end, 0 and
 * anything before the start clip to 1), returned 0-based; may be past the end. */
static size_t sb_pat_start(lua_Integer pos, size_t len) {
    if (pos > 0) return (size_t)pos - 1;
    if (pos == 0 || pos < -(lua_Integer)len) return 0;
    return len - (size_t)(-pos);
}

/* Has the pattern none of the characters that make it a pattern (bytes after a '\0'
 * included)? Charges its length. */
static int sb_pat_is_plain(sb_pat *m, const char *p, size_t lp) {
    sb_pat_step(m, (long)lp);
    for (size_t i = 0; i < lp; i++)
        if (p[i] && strchr(SB_PAT_SPECIALS, p[i])) return 0;
    return 1;
}

/* string.find (find) and string.match: (s, pattern [, init [, plain]]). [-0, +n, e] */
static int sb_pat_find_aux(lua_State *L, int find) {
    const sb_pattern_hooks *hooks = lua_touserdata(L, lua_upvalueindex(1));
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = sb_pat_start(luaL_optinteger(L, 3, 1), ls);
    sb_pat m;
    if (init > ls) {                                /* starts after the end */
        luaL_pushfail(L);
        return 1;
    }
    sb_pat_init(&m, L, hooks, s, ls, p + lp);
    if (find && (lua_toboolean(L, 4) || sb_pat_is_plain(&m, p, lp))) {
        sb_pat_step(&m, (long)(ls - init) + 1);
        sb_pat_charge(&m);
        const char *hit = memmem(s + init, ls - init, p, lp);
        if (!hit) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (hit - s) + 1);
        lua_pushinteger(L, (lua_Integer)((hit - s) + lp));
        return 2;
    }
    int anchor = *p == '^';
    const char *at = s + init;
    do {
        sb_pat_step(&m, 1);
        m.ncap = 0;
        const char *e = sb_pat_match(&m, at, p + anchor);
        if (e) {
            sb_pat_charge(&m);
            if (!find) return sb_pat_push_caps(&m, at, e);
            lua_pushinteger(L, (at - s) + 1);
            lua_pushinteger(L, e - s);
            return sb_pat_push_caps(&m, NULL, NULL) + 2;
        }
    } while (at++ < m.s_end && !anchor);
    sb_pat_charge(&m);
    luaL_pushfail(L);
    return 1;
}

static int sb_pat_find(lua_State *L) { return sb_pat_find_aux(L, 1); }
static int sb_pat_match_fn(lua_State *L) { return sb_pat_find_aux(L, 0); }

/* ---- gmatch ------------------------------------------------------------------------ */

/* Where the iterator goes on from, as offsets into the subject. */
typedef struct sb_pat_iter {
    size_t next;                    /* first start position to try */
    size_t last;                    /* end of the last match, SIZE_MAX before the first */
} sb_pat_iter;

/* The iterator: upvalues hooks, subject, pattern, sb_pat_iter. Returns the captures of
 * the next match, or nothing at the end. A match may not be empty right where the
 * previous one ended (5.4). '^' is an ordinary character here, as in Lua. [-0, +n, e] */
static int sb_pat_gmatch_next(lua_State *L) {
    const sb_pattern_hooks *hooks = lua_touserdata(L, lua_upvalueindex(1));
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(2), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(3), &lp);
    sb_pat_iter *it = lua_touserdata(L, lua_upvalueindex(4));
    sb_pat m;
    sb_pat_init(&m, L, hooks, s, ls, p + lp);
    for (size_t at = it->next; at <= ls; at++) {
        sb_pat_step(&m, 1);
        m.ncap = 0;
        const char *e = sb_pat_match(&m, s + at, p);
        if (e && (size_t)(e - s) != it->last) {
            sb_pat_charge(&m);                      /* a raise leaves the iterator as it was */
            it->next = it->last = (size_t)(e - s);
            return sb_pat_push_caps(&m, s + at, e);
        }
    }
    sb_pat_charge(&m);
    return 0;
}

/* string.gmatch (s, pattern [, init]) [-0, +1, e] */
static int sb_pat_gmatch(lua_State *L) {
    size_t ls, lp;
    luaL_checklstring(L, 1, &ls);
    luaL_checklstring(L, 2, &lp);
    size_t init = sb_pat_start(luaL_optinteger(L, 3, 1), ls);
    if (init > ls) init = ls + 1;                   /* nothing to find */
    lua_settop(L, 2);
    sb_pat_iter *it = lua_newuserdatauv(L, sizeof *it, 0);
    it->next = init;
    it->last = SIZE_MAX;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);                               /* hooks, s, pattern, iter */
    lua_pushcclosure(L, sb_pat_gmatch_next, 4);
    return 1;
}

/* ---- gsub -------------------------------------------------------------------------- */

/* Appends the replacement string (argument 3) for the match s..e: "%0" is the match,
 * "%1".."%9" a capture, "%%" a '%'. [-0, +0, e] (the buffer may move on the stack) */
static void sb_pat_add_string(sb_pat *m, luaL_Buffer *b, const char *s, const char *e) {
    lua_State *L = m->L;
    size_t l;
    const char *r = lua_tolstring(L, 3, &l);
    const char *pc;
    while ((pc = memchr(r, '%', l)) != NULL) {
        sb_pat_step(m, pc - r);
        luaL_addlstring(b, r, (size_t)(pc - r));
        pc++;                                       /* '\0' after a final '%' */
        if (*pc == '%') {
            sb_pat_step(m, 1);
            luaL_addchar(b, '%');
        } else if (*pc == '0') {
            sb_pat_step(m, e - s);
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (isdigit((unsigned char)*pc)) {
            const char *at;
            ptrdiff_t len = sb_pat_cap_get(m, *pc - '1', s, e, &at);
            if (len == SB_PAT_POS) {
                size_t n;
                lua_tolstring(L, -1, &n);
                sb_pat_step(m, (long)n);
                luaL_addvalue(b);
            } else {
                sb_pat_step(m, len);
                luaL_addlstring(b, at, (size_t)len);
            }
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", '%');
        }
        l -= (size_t)(pc + 1 - r);
        r = pc + 1;
    }
    sb_pat_step(m, (long)l);
    luaL_addlstring(b, r, l);
}

/* Appends the replacement for the match s..e, by the type tr of argument 3. A function
 * or table that gives false or nil keeps the match. Returns whether anything was
 * replaced. [-0, +0, e] */
static int sb_pat_add_value(sb_pat *m, luaL_Buffer *b, const char *s, const char *e, int tr) {
    lua_State *L = m->L;
    if (tr == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = sb_pat_push_caps(m, s, e);
        lua_call(L, n, 1);
    } else if (tr == LUA_TTABLE) {
        sb_pat_push_cap(m, 0, s, e);
        lua_gettable(L, 3);
    } else {
        sb_pat_add_string(m, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        sb_pat_step(m, e - s);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1))
        return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    size_t n;
    lua_tolstring(L, -1, &n);
    sb_pat_step(m, (long)n);
    luaL_addvalue(b);
    return 1;
}

/* string.gsub (s, pattern, repl [, n]) [-0, +2, e] */
static int sb_pat_gsub(lua_State *L) {
    const sb_pattern_hooks *hooks = lua_touserdata(L, lua_upvalueindex(1));
    size_t ls, lp;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int tr = lua_type(L, 3);
    lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION ||
                     tr == LUA_TTABLE, 3, "string/function/table");
    int anchor = *p == '^';
    const char *last = NULL;                        /* end of the last match */
    lua_Integer n = 0;
    int changed = 0;
    sb_pat m;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    sb_pat_init(&m, L, hooks, src, ls, p + lp);
    p += anchor;
    while (n < max_n) {
        sb_pat_step(&m, 1);
        m.ncap = 0;
        const char *e = sb_pat_match(&m, src, p);
        if (e && e != last) {                       /* no empty match where one ended */
            n++;
            changed |= sb_pat_add_value(&m, &b, src, e, tr);
            src = last = e;
        } else if (src < m.s_end) {
            sb_pat_step(&m, 1);
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor) break;
    }
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        sb_pat_step(&m, m.s_end - src);
        luaL_addlstring(&b, src, (size_t)(m.s_end - src));
        luaL_pushresult(&b);
    }
    sb_pat_charge(&m);
    lua_pushinteger(L, n);
    return 2;
}

/* ---- the table --------------------------------------------------------------------- */

void sb_pattern_push(lua_State *L, const sb_pattern_hooks *hooks) {
    static const luaL_Reg fns[] = {
        {"find", sb_pat_find}, {"match", sb_pat_match_fn},
        {"gmatch", sb_pat_gmatch}, {"gsub", sb_pat_gsub}, {NULL, NULL}
    };
    lua_createtable(L, 0, 4);
    lua_pushlightuserdata(L, (void *)hooks);
    luaL_setfuncs(L, fns, 1);
}
