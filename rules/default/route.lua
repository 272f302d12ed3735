-- route.lua (default pack): which branch ships the order ("Route Branch by Country and
-- Stock", DESIGN.md section 4).
--   FBA orders -> orders.fba_branch, no routing.
--   routing off -> additional.mf_branch.
--   routing on -> the first row of orders.routing.grid whose every non-empty condition
--   (countries, states, shipping) matches; no row -> additional.mf_branch. If the row's
--   branch cannot fill every line (soh - open >= qty), its backups are tried in order;
--   if none can: orders.split on -> up to 3 orders by stock over branch + backups
--   (freight stays on the first), else orders.routing.no_stock: "keep" (the row's branch,
--   the default) or "default" (additional.mf_branch).
-- orders.distribution_branch, when set, is copied to every decision.
---@type fun(order: sb.Order): sb.RouteDecision

local MAX_SPLITS = 3

local built_for, rows -- the grid with its lists turned into sets, per settings generation

local function set_of(list, upper)
    if list == nil then return nil end
    local s, any = {}, false
    for _, v in ipairs(list) do
        s[upper and string.upper(v) or v] = true
        any = true
    end
    return any and s or nil
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
        local backups = {}
        for _, b in ipairs(row.backups or {}) do
            if not known[b] then
                error("setting orders.routing.grid: row " .. i .. ": backup branch '" .. tostring(b) .. "' does not exist")
            end
            backups[#backups + 1] = b
        end
        if #backups > 2 then error("setting orders.routing.grid: row " .. i .. " has more than 2 backups") end
        rows[i] = {
            n = i,
            branch = row.branch,
            backups = backups,
            countries = set_of(row.countries, true),
            states = set_of(row.states, true),
            shipping = set_of(row.shipping, true),
        }
    end
    built_for = settings
end

local function row_matches(row, order)
    local ship = order.ship
    if row.countries and not (ship.country and row.countries[ship.country]) then return false end
    if row.states and not (ship.state and row.states[ship.state]) then return false end
    if row.shipping then
        local ok = order.service_level and row.shipping[order.service_level]
        if not ok then
            for p in pairs(order.programs) do
                if row.shipping[p] then ok = true break end
            end
        end
        if not ok then return false end
    end
    return true
end

-- available = soh - open at branch, remembered for this order
local function available(cache, sku, branch)
    local key = sku .. "\0" .. branch
    local v = cache[key]
    if v == nil then
        local s = stock(sku, branch)
        v = s and (s.soh - s.open) or 0
        cache[key] = v
    end
    return v
end

local function can_fill(order, branch, cache)
    for _, l in ipairs(order.lines) do
        if l.sku and l.qty > 0 and available(cache, l.sku, branch) < l.qty then return false end
    end
    return true
end

-- Splits the lines over the candidate branches by stock, in candidate order. Returns
-- nil when the branches together cannot fill every line.
local function split(order, candidates, cache)
    local left = {}     -- stock still unallocated per sku and branch
    local parts = {}    -- branch -> {line=, qty=} list
    for i, l in ipairs(order.lines) do
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
            if have == nil then have = available(cache, l.sku, b) end
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

local function need_setting(name)
    local v = settings[name]
    if v == nil or v == "" then error("setting " .. name .. " is not set", 3) end
    return v
end

return function(order)
    local dist = settings["orders.distribution_branch"]
    if order.fba then
        return {branch = need_setting("orders.fba_branch"), distribution_branch = dist,
                reason = "FBA order"}
    end
    local mf = need_setting("additional.mf_branch")
    if not settings["orders.routing.enabled"] then
        return {branch = mf, distribution_branch = dist, reason = "merchant-fulfilled branch"}
    end
    if built_for ~= settings then build() end
    local row
    for _, r in ipairs(rows) do
        if row_matches(r, order) then row = r break end
    end
    if not row then
        return {branch = mf, distribution_branch = dist, reason = "no grid row matched"}
    end
    local cache = {}
    local candidates = {row.branch}
    for _, b in ipairs(row.backups) do candidates[#candidates + 1] = b end
    for i, b in ipairs(candidates) do
        if can_fill(order, b, cache) then
            return {branch = b, distribution_branch = dist,
                    reason = "grid row " .. row.n .. (i == 1 and "" or (", backup " .. (i - 1)))}
        end
    end
    if settings["orders.split"] then
        local splits = split(order, candidates, cache)
        if splits then
            return {splits = splits, distribution_branch = dist,
                    reason = "grid row " .. row.n .. ", split by stock"}
        end
    end
    if settings["orders.routing.no_stock"] == "default" then
        return {branch = mf, distribution_branch = dist,
                reason = "grid row " .. row.n .. ", no stock: default branch"}
    end
    return {branch = row.branch, distribution_branch = dist,
            reason = "grid row " .. row.n .. ", no stock: kept"}
end
