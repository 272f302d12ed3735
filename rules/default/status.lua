-- status.lua (default pack): download an order iff its fulfillment status is one of the
-- statuses ticked on the settings page (orders.statuses) or one of the custom statuses
-- (orders.custom_statuses, exact match).
---@type fun(order: sb.Order): sb.StatusDecision

local built_for, selected -- the status set, rebuilt only when the settings change

local function build()
    selected = {}
    for _, key in ipairs({"orders.statuses", "orders.custom_statuses"}) do
        local list = settings[key]
        if list ~= nil then
            if type(list) ~= "table" then
                error("setting " .. key .. " must be a JSON array of statuses")
            end
            for _, s in ipairs(list) do selected[s] = true end
        end
    end
    built_for = settings
end

return function(order)
    if built_for ~= settings then build() end
    if selected[order.status] then return {download = true} end
    return {download = false, reason = "status " .. order.status .. " is not selected"}
end
