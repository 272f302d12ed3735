-- validate.lua (default pack): an order without buyer name or e-mail, without delivery
-- details or without lines is stored "needs attention" (never auto-dispatched).
-- Orders fulfilled by Amazon are not checked for buyer or address: Amazon ships them and
-- often sends neither.
---@type fun(order: sb.Order): sb.ValidateDecision

-- countries whose addresses commonly have no postal code
local NO_POSTAL = {AE = true, HK = true, QA = true, BS = true, PA = true, AO = true}

return function(order)
    local missing
    local function need(what)
        missing = missing or {}
        missing[#missing + 1] = what
    end
    if not order.fba then
        local b, a = order.buyer, order.ship
        if not b.name then need("buyer name") end
        if not b.email then need("buyer e-mail") end
        if not a.name then need("delivery name") end
        if not a.line1 then need("delivery address line 1") end
        if not a.city then need("delivery city") end
        if not a.country then need("delivery country")
        elseif not a.postal and not NO_POSTAL[a.country] then need("delivery postal code") end
    end
    local lines = order.lines
    if #lines == 0 then need("order lines") end
    for i = 1, #lines do
        if not lines[i].sku then need("SKU on line " .. i) end
    end
    if missing then
        return {attention = true, reason = "missing " .. table.concat(missing, ", ")}
    end
    return {attention = false}
end
