-- cases.lua: trusted engine Lua for `rules test`: merges a case over the folder's
-- _base.json and compares the decision the host produced with the case's "expect".
-- Runs in the case runner's own plain state, never in a rule state.
-- The one idea: expectations are partial. Only the keys a case names are compared; text
-- fields (err, error, *_reason) match as substrings; JSON null means "must be absent".
local cjson = ...
local null = cjson.null

local function is_array(t)
    return next(t) == nil or t[1] ~= nil
end

-- patch over base: objects merge key by key, arrays and scalars replace, null deletes
local function merge(base, patch)
    if type(base) ~= "table" or type(patch) ~= "table" or is_array(patch) then return patch end
    local out = {}
    for k, v in pairs(base) do out[k] = v end
    for k, v in pairs(patch) do
        if v == null then out[k] = nil else out[k] = merge(base[k], v) end
    end
    return out
end

local function show(v)
    if v == nil or v == null then return "null" end
    if type(v) == "table" then
        local ok, s = pcall(cjson.encode, v)
        return ok and s or tostring(v)
    end
    return tostring(v)
end

local function same(a, b)
    if a == null then a = nil end
    if b == null then b = nil end
    if type(a) == "number" and type(b) == "number" then return math.abs(a - b) < 1e-9 end
    if type(a) ~= "table" or type(b) ~= "table" then return a == b end
    for k, v in pairs(a) do if not same(v, b[k]) then return false end end
    for k, v in pairs(b) do if a[k] == nil and v ~= null then return false end end
    return true
end

local SUBSTRING = {err = true, error = true, attention_reason = true, skip_reason = true,
                   route_reason = true, stock_error = true}

local function check(expect, got)
    local problems = {}
    local function bad(fmt, ...) problems[#problems + 1] = string.format(fmt, ...) end
    for k, want in pairs(expect) do
        local have = got[k]
        if SUBSTRING[k] then
            if want == null then
                if have ~= nil then bad("%s: expected none, got %q", k, have) end
            elseif type(have) ~= "string" or not string.find(have, want, 1, true) then
                bad("%s: expected text containing %q, got %s", k, want, show(have))
            end
        elseif k == "branch" then
            local s = got.splits
            if not (s and #s == 1 and s[1].branch == want) then
                bad("branch: expected %s, got splits %s", show(want), show(s))
            end
        elseif k == "customer" then
            for ck, cv in pairs(want) do
                local hv = have and have[ck]
                if not same(cv, hv) then bad("customer.%s: expected %s, got %s", ck, show(cv), show(hv)) end
            end
        elseif not same(want, have) then
            bad("%s: expected %s, got %s", k, show(want), show(have))
        end
    end
    if expect.status == nil and got.status ~= 0 then
        bad("status: expected 0, got %d (%s)", got.status, show(got.err))
    end
    if expect.error == nil and got.error ~= nil then bad("unexpected rule error: %s", got.error) end
    if expect.stock_error == nil and got.stock_error ~= nil then bad("unexpected stock error: %s", got.stock_error) end
    if #problems == 0 then return nil end
    return table.concat(problems, "; ")
end

-- the case over _base.json; "expect" is taken whole from the case (its nulls mean
-- "must be absent", not "delete")
local function merge_case(base, case)
    local out = merge(base, case)
    out.expect = case.expect or base.expect
    return out
end

return {merge = merge_case, check = check}
