-- route.lua (us-east-west): US merchant-fulfilled orders go to the East or the West
-- warehouse by the delivery state, with the other warehouse as the backup when the first
-- cannot fill every line. Everything else (FBA, other countries) is routed by the default
-- pack, so the settings page still applies to it.
---@type fun(order: sb.Order): sb.RouteDecision

local WEST = {}
for _, s in ipairs({"AK", "AZ", "CA", "CO", "HI", "ID", "MT", "NM", "NV", "OR", "UT", "WA", "WY"}) do
    WEST[s] = true
end

local function can_fill(order, branch)
    for _, l in ipairs(order.lines) do
        if l.sku then
            local s = stock(l.sku, branch)
            if not s or s.soh - s.open < l.qty then return false end
        end
    end
    return true
end

return function(order)
    if order.fba or order.ship.country ~= "US" then return defaults.route(order) end
    local first, backup = "East", "West"
    if order.ship.state and WEST[order.ship.state] then first, backup = "West", "East" end
    local dist = settings["orders.distribution_branch"]
    if can_fill(order, first) then
        return {branch = first, distribution_branch = dist, reason = "US " .. tostring(order.ship.state) .. ": " .. first}
    end
    if can_fill(order, backup) then
        return {branch = backup, distribution_branch = dist, reason = "US " .. tostring(order.ship.state) .. ": backup " .. backup}
    end
    return {branch = first, distribution_branch = dist, reason = "no stock in East or West: kept " .. first}
end
