-- validate.lua (default pack): an order without buyer name or e-mail, without delivery
-- details or without lines is stored "needs attention" (never auto-dispatched).
-- Orders fulfilled by Amazon are not checked for buyer or address: Amazon ships them and
-- often sends neither.
---@type fun(order: sb.Order): sb.ValidateDecision

-- countries whose addresses commonly have no postal code
local NO_POSTAL = {AE = true, HK = true, QA = true, BS = true, PA = true, AO = true}

local concat = table.concat

-- missing with what added at the end; the list is made on the first problem only, so a
-- complete order allocates nothing but its decision
local function add(missing, what)
    if missing == nil then return {what} end
    missing[#missing + 1] = what
    return missing
end

return function(order)
    local missing
    if not order.fba then
        local b, a = order.buyer, order.ship
        if not b.name then missing = add(missing, "buyer name") end
        if not b.email then missing = add(missing, "buyer e-mail") end
        if not a.name then missing = add(missing, "delivery name") end
        if not a.line1 then missing = add(missing, "delivery address line 1") end
        if not a.city then missing = add(missing, "delivery city") end
        if not a.country then missing = add(missing, "delivery country")
        elseif not a.postal and not NO_POSTAL[a.country] then missing = add(missing, "delivery postal code") end
    end
    local lines = order.lines
    if #lines == 0 then missing = add(missing, "order lines") end
    for i = 1, #lines do
        if not lines[i].sku then missing = add(missing, "SKU on line " .. i) end
    end
    if missing then
        return {attention = true, reason = "missing " .. concat(missing, ", ")}
    end
    return {attention = false}
end
