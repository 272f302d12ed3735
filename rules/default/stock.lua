-- stock.lua (default pack): the quantity sent to Amazon for one SKU, summed over the
-- selected branches with stock.formula (available | soh | etd7 | etd30), minus the
-- product's buffer when stock.subtract_buffer is on, never below 0, a whole number.
---@type fun(item: sb.StockItem): integer

local floor = math.floor

return function(item)
    local formula = settings["stock.formula"] or "available"
    local sum = 0
    for _, b in ipairs(item.branches) do
        if formula == "available" then sum = sum + b.soh - b.open
        elseif formula == "soh" then sum = sum + b.soh
        elseif formula == "etd7" then sum = sum + b.soh - b.open_etd7
        elseif formula == "etd30" then sum = sum + b.soh - b.open_etd30
        else error("setting stock.formula: unknown formula '" .. tostring(formula) .. "'") end
    end
    if settings["stock.subtract_buffer"] then sum = sum - (item.buffer or 0) end
    if sum < 0 then return 0 end
    return floor(sum)
end
