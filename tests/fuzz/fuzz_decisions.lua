-- fuzz_decisions.lua: the one hook of the fuzz_decisions pack. tests/fuzz/fuzz_decisions.c
-- writes it as status.lua, validate.lua, customer.lua, route.lua and gl.lua, each with
-- `local HOOK = "<hook>"` in front, and hands every input over hex-encoded in
-- settings["fuzz.bytes"]. Input byte 0 picks the hook (its value mod 5, in the order
-- above) that builds its decision from the bytes after it; the other hooks return a fixed
-- valid decision, so the chosen one always runs.
--
-- The rest of the input is a program read depth first: one opcode byte (mod 25, see
-- `value`), then its operands, then the values it is made of. A missing byte reads as
-- nil (or 0 as an operand), so every input is a program.
--
-- The one idea: this code never runs a metamethod of what it builds (every table is
-- filled before it gets a metatable; keys are compared only with themselves, which is raw)
-- and says product("FUZZ-RETURN") just before it returns. Every metamethod it installs
-- first calls product("FUZZ-MM"), so the C side counts any metamethod the engine ran while
-- reading the decision. product("FUZZ-NUL") says a field C reads as a name holds a NUL.

local HOOKS = {"status", "validate", "customer", "route", "gl"}
local FIXED = {
    status = function() return {download = true} end,
    validate = function() return {attention = false} end,
    customer = function() return {action = "insert"} end,
    route = function() return {branch = "Main"} end,
    gl = function() return nil end,
}
local FIELDS = {"download", "attention", "reason", "action", "id", "ref", "key", "group",
                "name", "branch", "splits", "lines", "line", "qty", "distribution_branch",
                "account"}
local STRS = {"Main", "East", "FBA", "Sydny", "", "\0", "Main\0", "Main\0East", "main",
              " Main", "4000", "4000\0", "9999", "Amazon", "Amazon\0", "VIP", "insert",
              "update", "keep", "selected", "merge", "insert\0", "C1", "C1\0", "C2", "NOPE",
              "a\nb", "\r\n\t\27[31m", "\127\1\31", "%s%n%d", "\255\254", "\u{e9}", "1", "2",
              "0x10", "nil", "true", "dana@example.com", "k", "v", "kv"}
local NUMS = {0, -0.0, -1, 1, 2, 3, 4, 1.0, 2.0, 3.0, 1.5, 0.5, 2.5, 1e-300, 1e300, 2^53,
              2^53 + 2, -2^53, 2^63, -2^63, 0/0, -(0/0), 1/0, -1/0, math.mininteger,
              math.maxinteger, 11, 11.0, 12, 1 - 2^-52, 1 + 2^-52, 3 + 2^-51, 2^31, -2^31,
              2^32, 1 << 62}
local SIZES = {16, 255, 4096, 16383, 16384, 65536, (1 << 20) - 1, 1 << 20, (1 << 20) + 1,
               2 << 20}
local CHARS = {"x", "\0", "\n", "M", "\u{e9}", "Main"}
local MMS = {"__index", "__newindex", "__len", "__pairs", "__eq", "__lt", "__le", "__concat",
             "__call", "__tostring", "__name", "__mode", "__metatable", "__unm", "__add",
             "__close", "__gc"}
local READ = {status = {"reason"}, validate = {"reason"},
              customer = {"action", "ref", "key", "group", "name"},
              route = {"branch", "distribution_branch", "reason"}, gl = {"account"}}
local sub, rep, char, find, unpack = string.sub, string.rep, string.char, string.find, string.unpack
local tunpack, min = table.unpack, math.min

-- a valid decision of this hook for the fixture order (lines of 2, 1 and 3)
local function template()
    if HOOK == "status" then return {download = true, reason = "fuzz"} end
    if HOOK == "validate" then return {attention = true, reason = "fuzz"} end
    if HOOK == "customer" then
        local c = customer_by_ref("C1")
        return {action = "keep", id = c and c.id}
    end
    if HOOK == "route" then
        return {splits = {{branch = "Main", lines = {{line = 1, qty = 1}, {line = 2, qty = 1}}},
                          {branch = "East", lines = {{line = 1, qty = 1}, {line = 3, qty = 3}}}},
                distribution_branch = "FBA", reason = "fuzz"}
    end
    return {account = "4000"}
end

local function mm() product("FUZZ-MM") end

local function build(order, hex)
    local n, pos, nodes = #hex // 2, 0, 0
    local made, building = {}, {}
    local value

    local function byte()
        pos = pos + 1
        if pos >= n then return nil end
        return tonumber(sub(hex, 2 * pos + 1, 2 * pos + 2), 16)
    end
    local function pick(list) return list[(byte() or 0) % #list + 1] end

    -- fills the fresh table t with up to 7 entries: any keys, an array, or decision fields
    local function fill(t, d, how)
        building[t] = true
        made[#made + 1] = t
        for i = 1, (byte() or 0) % 8 do
            if how == "array" then
                t[i] = value(d + 1)
            elseif how == "fields" then
                t[pick(FIELDS)] = value(d + 1)
            else
                local k = value(d + 1)
                if k ~= nil and k == k then t[k] = value(d + 1) end
            end
        end
        building[t] = nil
        return t
    end

    -- what one metamethod does
    local function behaviour(d)
        local b = (byte() or 0) % 8
        if b == 0 then return function() mm() error("FUZZ-MM raised") end
        elseif b == 1 then return function() mm() while true do end end
        elseif b == 2 then local v = pick(NUMS) return function() mm() return v end
        elseif b == 3 then local v = value(d + 1) return function() mm() return v end
        elseif b == 4 then return value(d + 1)   -- not a function: a table __index, a __mode
        elseif b == 5 then
            local e = setmetatable({}, {__tostring = function() mm() while true do end end})
            return function() mm() error(e) end
        elseif b == 6 then return function(...) mm() return ... end
        end
        return function()
            mm()
            return setmetatable({}, {__index = function() mm() while true do end end})
        end
    end

    function value(d)
        nodes = nodes + 1
        if d > 12 or nodes > 2000 then return nil end
        local op = byte()
        if not op then return nil end
        op = op % 25
        if op == 0 then return nil
        elseif op == 1 then return true
        elseif op == 2 then return false
        elseif op == 3 then return pick(NUMS)
        elseif op == 4 then return (byte() or 0) - 4              -- an integer -4..251
        elseif op == 5 then return (byte() or 0) - 4.0            -- the same as a float
        elseif op == 6 then return pick(STRS)
        elseif op == 7 then return pick(FIELDS)
        elseif op == 8 then                                       -- a string of raw bytes
            local s = {}
            for i = 1, byte() or 0 do s[i] = byte() or 0 end
            return char(tunpack(s))
        elseif op == 9 then                                       -- a long string
            local c, size = pick(CHARS), pick(SIZES)
            return rep(c, size // #c)
        elseif op == 10 then                                      -- a .. b of strings, numbers
            local a, b = value(d + 1), value(d + 1)
            local ta, tb = type(a), type(b)
            if (ta == "string" or ta == "number") and (tb == "string" or tb == "number") then
                return a .. b
            end
            return a
        elseif op == 11 then return fill({}, d, "any")
        elseif op == 12 then return fill({}, d, "array")
        elseif op == 13 then return fill({}, d, "fields")
        elseif op == 14 then                                      -- a table made before (or
            if #made == 0 then return nil end                     -- being made: a cycle)
            return made[(byte() or 0) % #made + 1]
        elseif op == 15 then                                      -- a table with metamethods
            local t = value(d + 1)
            if type(t) ~= "table" or building[t] or getmetatable(t) ~= nil then t = {} end
            local mt = {}
            for _ = 1, (byte() or 0) % 4 + 1 do mt[pick(MMS)] = behaviour(d) end
            pcall(setmetatable, t, mt)                            -- __gc is refused
            return t
        elseif op == 16 then                                      -- what the rule can see
            local e = (byte() or 0) % 12
            if e == 0 then return _ENV
            elseif e == 1 then return order
            elseif e == 2 then return settings
            elseif e == 3 then return branches
            elseif e == 4 then return defaults
            elseif e == 5 then return string
            elseif e == 6 then return cjson.null
            elseif e == 7 then return math
            elseif e == 8 then return order.lines
            elseif e == 9 then return order.lines[1]
            elseif e == 10 then return order.raw
            end
            return branches[1]
        elseif op == 17 then                                      -- a customer look-up
            local c = customer_by_ref((byte() or 0) % 2 == 0 and "C1" or "C2")
            local e = (byte() or 0) % 3
            if e == 0 then return c end
            return c and (e == 1 and c.id or c.ref)
        elseif op == 18 then
            if (byte() or 0) % 2 == 0 then return type end
            return function() mm() end
        elseif op == 19 then                                      -- the hook raises
            local v = value(d + 1)
            error(v, (byte() or 0) % 3)
        elseif op == 20 then                                      -- a valid decision, changed
            local top = template()
            made[#made + 1] = top
            local t, at, s = top, (byte() or 0) % 4, top.splits
            if s and at == 1 then t = s[1]
            elseif s and at == 2 then t = s[1].lines[1]
            elseif s and at == 3 then t = s[2] end
            building[top], building[t] = true, true
            for _ = 1, (byte() or 0) % 4 do t[pick(FIELDS)] = value(d + 1) end
            building[top], building[t] = nil, nil
            return top
        elseif op == 21 then                                      -- a split
            local t = {}
            made[#made + 1] = t
            building[t] = true
            t.branch, t.lines = value(d + 1), value(d + 1)
            building[t] = nil
            return t
        elseif op == 22 then                                      -- a line of a split
            local t = {}
            made[#made + 1] = t
            building[t] = true
            t.line, t.qty = value(d + 1), value(d + 1)
            building[t] = nil
            return t
        end
        local s = {}                                              -- 8 raw bytes as a number
        for i = 1, 8 do s[i] = byte() or 0 end
        return (unpack(op == 23 and "<i8" or "<d", char(tunpack(s))))
    end

    return value(0)
end

local function has_nul(s) return type(s) == "string" and find(s, "\0", 1, true) ~= nil end

-- reports a NUL in any field C reads as a name (raw reads only)
local function report_nul(v)
    local nul = HOOK == "gl" and has_nul(v)
    if type(v) == "table" then
        for _, k in ipairs(READ[HOOK]) do nul = nul or has_nul(rawget(v, k)) end
        local s = HOOK == "route" and rawget(v, "splits")
        if type(s) == "table" then
            for i = 1, min(rawlen(s), 3) do
                local x = rawget(s, i)
                nul = nul or (type(x) == "table" and has_nul(rawget(x, "branch")))
            end
        end
    end
    if nul then product("FUZZ-NUL") end
end

return function(order)
    local hex = settings["fuzz.bytes"] or ""
    local h = tonumber(sub(hex, 1, 2), 16)
    if not h or HOOKS[h % 5 + 1] ~= HOOK then return FIXED[HOOK]() end
    product("FUZZ-BEGIN")
    local v = build(order, hex)
    report_nul(v)
    product("FUZZ-RETURN")
    return v
end
