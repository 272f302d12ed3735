-- route.lua (default pack): which branch ships the order ("Route Branch by Country and
-- Stock", DESIGN.md section 4).
--   FBA orders -> orders.fba_branch, no routing.
--   routing off -> additional.mf_branch.
--   routing on -> the first row of orders.routing.grid whose every non-empty condition
--   (countries, states, shipping) matches; no row -> additional.mf_branch. A row with
--   no condition matches every order only when it says "any": true; without it the row
--   is an error (the settings refuse such a grid; this catches one stored before). If the row's
--   branch cannot fill every line (soh - open >= qty; a SKU on several lines needs their
--   sum), its backups are tried in order;
--   if none can: orders.split on -> up to 3 orders by stock over branch + backups
--   (freight stays on the first), else orders.routing.no_stock: "keep" (the row's branch,
--   the default) or "default" (additional.mf_branch).
-- orders.distribution_branch, when set, is copied to every decision.
-- It runs for every order under the instruction budget, so whatever depends only on the
-- settings (the settings read, the grid as sets, each row's candidate branches and
-- reasons) is worked out once per settings generation, and stock is read with
-- available(), which gives one number instead of a table.
---@type fun(order: sb.Order): sb.RouteDecision

local MAX_SPLITS = 3
local available, error, pairs, ipairs, next, tostring, type = available, error, pairs, ipairs, next, tostring, type

-- the settings this hook reads, per settings generation (nil when not set)
local set_for, dist, fba_branch, mf_branch, routing, split_on, no_stock_default
-- the grid, built on the first order that is routed by it
local built_for, rows

local function read_settings(s)
    dist = s["orders.distribution_branch"]
    fba_branch = s["orders.fba_branch"]
    mf_branch = s["additional.mf_branch"]
    routing = s["orders.routing.enabled"]
    split_on = s["orders.split"]
    no_stock_default = s["orders.routing.no_stock"] == "default"
    set_for = s
end

local function set_of(list, upper)
    if list == nil then return nil end
    local s, any = {}, false
    for _, v in ipairs(list) do
        s[upper and string.upper(v) or v] = true
        any = true
    end
    return any and s or nil
end

-- the keys of a set, in no particular order
local function list_of(set)
    local l = {}
    for k in pairs(set or l) do l[#l + 1] = k end
    return l
end

local function build()
    rows = {}
    local known = {}
    for _, b in ipairs(branches) do known[b.name] = true end
    local grid = settings["orders.routing.grid"]
    for i, row in ipairs(grid or {}) do
        if type(row.branch) ~= "string" or row.branch == "" then
            error("setting orders.routing.grid: row " .. i .. " has no branch")
        end
        if not known[row.branch] then
            error("setting orders.routing.grid: row " .. i .. ": branch '" .. row.branch .. "' does not exist")
        end
        local countries, states, shipping = set_of(row.countries, true), set_of(row.states, true), set_of(row.shipping, true)
        if not countries and not states and not shipping and row.any ~= true then
            error("setting orders.routing.grid: row " .. i .. " names no countries, states or shipping options; " ..
                  "a row that catches every order needs \"any\": true")
        end
        local candidates = {row.branch}  -- the branch, then its backups
        local reasons = {"grid row " .. i}
        for _, b in ipairs(row.backups or {}) do
            if not known[b] then
                error("setting orders.routing.grid: row " .. i .. ": backup branch '" .. tostring(b) .. "' does not exist")
            end
            candidates[#candidates + 1] = b
            reasons[#reasons + 1] = "grid row " .. i .. ", backup " .. #reasons
        end
        if #candidates > 3 then error("setting orders.routing.grid: row " .. i .. " has more than 2 backups") end
        rows[i] = {
            branch = row.branch,
            candidates = candidates,
            reasons = reasons,
            split_reason = "grid row " .. i .. ", split by stock",
            default_reason = "grid row " .. i .. ", no stock: default branch",
            kept_reason = "grid row " .. i .. ", no stock: kept",
            countries = countries or false,
            states = states or false,
            shipping = shipping or false,
            shipping_list = list_of(shipping),
        }
    end
    built_for = settings
end

-- {sku = total quantity} of lines, for an order table made without order.skus (a pack
-- calling defaults.route with its own table)
local function skus_of(lines)
    local t = {}
    for _, l in ipairs(lines) do
        if l.sku and l.qty > 0 then t[l.sku] = (t[l.sku] or 0) + l.qty end
    end
    return t
end

-- Splits the lines over the candidate branches by stock, in candidate order. Returns
-- nil when the branches together cannot fill every line.
local function split(lines, candidates)
    local left = {}     -- stock still unallocated per sku and branch
    local parts = {}    -- branch -> {line=, qty=} list
    for i, l in ipairs(lines) do
        local need = l.qty
        for _, b in ipairs(candidates) do
            if need <= 0 then break end
            if not l.sku then
                parts[b] = parts[b] or {}
                table.insert(parts[b], {line = i, qty = need})
                need = 0
                break
            end
            local key = l.sku .. "\0" .. b
            local have = left[key]
            if have == nil then have = available(l.sku, b) end
            local take = have < need and have or need
            if take > 0 then
                parts[b] = parts[b] or {}
                table.insert(parts[b], {line = i, qty = take})
                left[key] = have - take
                need = need - take
            else
                left[key] = have
            end
        end
        if need > 0 then return nil end
    end
    local splits = {}
    for _, b in ipairs(candidates) do
        if parts[b] then splits[#splits + 1] = {branch = b, lines = parts[b]} end
    end
    if #splits > MAX_SPLITS then return nil end
    return splits
end

-- level 3 names the hook's caller: the engine (no position) or a pack calling defaults.route
local function not_set(name)
    error("setting " .. name .. " is not set", 3)
end

return function(order)
    local s = settings
    if s ~= set_for then read_settings(s) end
    if order.fba then
        if fba_branch == nil or fba_branch == "" then not_set("orders.fba_branch") end
        return {branch = fba_branch, distribution_branch = dist, reason = "FBA order"}
    end
    if mf_branch == nil or mf_branch == "" then not_set("additional.mf_branch") end
    if not routing then
        return {branch = mf_branch, distribution_branch = dist, reason = "merchant-fulfilled branch"}
    end
    if built_for ~= s then build() end
    -- the first row whose every non-empty condition matches (t[nil] is nil)
    local ship, level = order.ship, order.service_level
    local row
    for n = 1, #rows do
        local r = rows[n]
        local set = r.countries
        if not set or set[ship.country] then
            set = r.states
            if not set or set[ship.state] then
                set = r.shipping
                if not set or set[level] then row = r break end
                -- or one of the order's programs (PRIME, ...)
                local programs, list = order.programs, r.shipping_list
                for k = 1, #list do
                    if programs[list[k]] ~= nil then row = r break end
                end
                if row then break end
            end
        end
    end
    if not row then
        return {branch = mf_branch, distribution_branch = dist, reason = "no grid row matched"}
    end
    -- the first candidate that can fill every line (soh - open >= qty): order.skus has
    -- each SKU's total over its lines (a line without a SKU or with qty 0 needs nothing)
    local need, candidates = order.skus or skus_of(order.lines), row.candidates
    for c = 1, #candidates do
        local b = candidates[c]
        local fills = true
        for sku, qty in next, need do
            if available(sku, b) < qty then fills = false break end
        end
        if fills then
            return {branch = b, distribution_branch = dist, reason = row.reasons[c]}
        end
    end
    local lines = order.lines
    if split_on then
        local splits = split(lines, candidates)
        if splits then
            return {splits = splits, distribution_branch = dist, reason = row.split_reason}
        end
    end
    if no_stock_default then
        return {branch = mf_branch, distribution_branch = dist, reason = row.default_reason}
    end
    return {branch = row.branch, distribution_branch = dist, reason = row.kept_reason}
end
