/* pattern.h: Lua 5.4's string.find, match, gmatch and gsub with a step meter, for the
 * rule sandbox. The stock functions are C, so neither the count hook nor the deadline
 * fires while they backtrack; these do the same work but hand it, in steps, to a charge
 * callback that may raise. Only engine/rules includes this (it needs lua.h). */
#ifndef SB_RULES_PATTERN_H
#define SB_RULES_PATTERN_H
#include <lua.h>

/* Steps between two charges. A step is one unit of matching work: a pattern item the
 * matcher takes up, a character a quantifier tries, a start position tried, a byte a
 * %b, a back-reference, a set or a plain search scans, a byte appended to gsub's
 * result. The pathological a-a-a-...b does about 280 million a second (-O2, one core),
 * so a tick is a few microseconds. */
#define SB_PATTERN_TICK 1024

/* Charged with the number of steps done since the last charge; may raise a Lua error
 * (it longjmps), so pattern.c keeps everything it allocates on the Lua stack. It must
 * leave the Lua stack as it found it. */
typedef struct sb_pattern_hooks {
    void (*charge)(lua_State *L, long steps);
} sb_pattern_hooks;

/* Pushes a new table {find, match, gmatch, gsub} whose functions behave exactly as Lua
 * 5.4's string.find/match/gmatch/gsub and call hooks->charge every SB_PATTERN_TICK
 * steps (and once with the remainder before returning). hooks must outlive the state.
 * [-0, +1] */
void sb_pattern_push(lua_State *L, const sb_pattern_hooks *hooks);

#endif
