-- sandbox.lua: trusted engine Lua, run once per rule state before any rule loads.
-- It builds the one shared, read-only API table that every rule's _ENV reads from,
-- and returns the helpers the C host needs. The idea to read it by: a rule never sees
-- _G, only its own empty _ENV whose __index is `api` (a table, so look-ups stay on the
-- VM's fast path) and whose unknown names fall through to a function that raises.
-- Argument: the cjson module table (preloaded by the host). Returns a table of helpers.
local cjson = ...
local G = _G
local setmetatable, error, next, type, tostring, rawget, pcall =
      setmetatable, error, next, type, tostring, rawget, pcall

-- bytecode can neither be loaded (mode "t") nor produced
string.dump = nil

local function readonly_error(name)
    return function(_, k)
        error("attempt to modify read-only table '" .. name .. "' (field '" .. tostring(k) .. "')", 2)
    end
end

-- A read-only view of t. pairs() walks t without handing t out; # works through __len.
local function ro(t, name)
    return setmetatable({}, {
        __index = t,
        __newindex = readonly_error(name),
        __len = function() return #t end,
        __pairs = function()
            local k
            return function()
                local v
                k, v = next(t, k)
                return k, v
            end
        end,
        __metatable = false,
    })
end

-- A deep read-only copy (settings decoded from JSON, branch lists). cjson.null stays.
local function deep_ro(v, name)
    if type(v) ~= "table" then return v end
    local c = {}
    for k, x in next, v do c[k] = deep_ro(x, name) end
    return ro(c, name)
end

local api = setmetatable({}, {
    __index = function(_, k)
        error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
    end,
    __metatable = false,
})

for _, k in next, {"assert", "error", "ipairs", "next", "pairs", "pcall", "select",
                   "tonumber", "tostring", "type", "rawequal", "rawlen",
                   "rawget", "getmetatable", "_VERSION"} do
    api[k] = G[k]
end
-- setmetatable without __gc: a finalizer would run at an arbitrary later time, outside
-- the budget of the rule that made it.
api.setmetatable = function(t, mt)
    if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
        error("__gc metamethods are not allowed in rules", 2)
    end
    local ok, res = pcall(setmetatable, t, mt)
    if not ok then error(res, 2) end
    return res
end
-- xpcall whose handler runs after the stack unwinds, as a plain call. Lua runs a real
-- message handler with hooks off when the error came from a hook, so a handler that
-- loops would escape the instruction budget; rules have no debug library, so running
-- the handler at the error point would buy them nothing anyway.
local function xpcall_finish(h, ok, ...)
    if ok then return true, ... end
    return false, h((...))
end
api.xpcall = function(f, h, ...)
    if h == nil then error("bad argument #2 to 'xpcall' (value expected)", 2) end
    return xpcall_finish(h, pcall(f, ...))
end
api.string = ro(string, "string")
api.table = ro(table, "table")
api.math = ro(math, "math")
api.utf8 = ro(utf8, "utf8")
-- only the pure functions: the configuration functions would change the engine's decoder
api.cjson = ro({encode = cjson.encode, decode = cjson.decode, null = cjson.null}, "cjson")

local env_mt = {
    __index = api,
    __newindex = function(_, k)
        error("attempt to assign to global '" .. tostring(k) ..
              "' (globals are read-only in rules: use local)", 2)
    end,
    __metatable = false,
}

return {
    api = api,
    ro = ro,
    deep_ro = deep_ro,
    make_env = function() return setmetatable({}, env_mt) end,
}
