-- customer.lua (default pack): "How to create or assign a customer from an order".
-- orders.customer_mode picks one of six behaviours; orders.customer_selected names the
-- contact (by ref) for the "selected" ones; orders.customer_group is the CRM group given
-- to customers this download creates. The Customer ID is the buyer's channel identity:
-- for Amazon the buyer's relay e-mail (order.customer_key, lower-cased).
-- An order that names no buyer at all (no e-mail, no name: Amazon sends North American
-- FBA orders so) cannot be matched; instead of a new empty customer per order, the modes
-- that insert put all of a marketplace's anonymous orders on one customer, "Amazon buyer
-- (marketplace)", Customer ID "amazon-anonymous:<marketplace id>", made the first time.
---@type fun(order: sb.Order): sb.CustomerDecision

local by_id, by_email, by_ref, tostring = customer_by_id, customer_by_email, customer_by_ref, tostring

local function selected()
    local ref = settings["orders.customer_selected"]
    if not ref then error("setting orders.customer_selected is not set", 2) end
    local c = by_ref(ref)
    if not c then error("selected customer '" .. ref .. "' does not exist", 2) end
    return {action = "selected", id = c.id}
end

local function insert(order)
    if order.customer_key == nil and order.buyer.name == nil then
        local key = "amazon-anonymous:" .. (order.marketplace_id or "unknown")
        local c = by_id(key)
        if c then return {action = "keep", id = c.id} end
        return {action = "insert", key = key, group = settings["orders.customer_group"],
                name = "Amazon buyer (" .. (order.marketplace_name or order.marketplace_id or "unknown marketplace") .. ")"}
    end
    return {action = "insert", key = order.customer_key, group = settings["orders.customer_group"]}
end

local MODES = {
    id_or_email_update_else_insert = function(order)
        local c = by_id(order.customer_key) or by_email(order.buyer.email)
        if c then return {action = "update", id = c.id} end
        return insert(order)
    end,
    id_or_email_keep_else_insert = function(order)
        local c = by_id(order.customer_key) or by_email(order.buyer.email)
        if c then return {action = "keep", id = c.id} end
        return insert(order)
    end,
    id_keep_else_selected = function(order)
        local c = by_id(order.customer_key)
        if c then return {action = "keep", id = c.id} end
        return selected()
    end,
    email_update_else_insert = function(order)
        local c = by_email(order.buyer.email)
        if c then return {action = "update", id = c.id} end
        return insert(order)
    end,
    email_update_else_selected = function(order)
        local c = by_email(order.buyer.email)
        if c then return {action = "update", id = c.id} end
        return selected()
    end,
    selected = function() return selected() end,
}

-- the mode, per settings generation
local built_for, mode, mode_fn

return function(order)
    local s = settings
    if s ~= built_for then
        mode = s["orders.customer_mode"] or "id_or_email_update_else_insert"
        mode_fn = MODES[mode]
        built_for = s
    end
    if not mode_fn then error("setting orders.customer_mode: unknown mode '" .. tostring(mode) .. "'") end
    return mode_fn(order)
end
