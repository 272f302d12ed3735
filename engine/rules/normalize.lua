-- normalize.lua: trusted engine Lua that turns one Orders API 2026-01-01 `Order` object
-- (as decoded by cjson) into the rule-facing Order table documented in rules/README.md.
-- The one idea: rules never see Amazon's shape, only this flat snake_case table, so a
-- future API version changes this file and nothing in any rule pack.
-- Returns normalize(o) -> order | nil, problem, order_id. Empty strings count as absent.
local cjson = ...
local null = cjson.null
local type, tostring, tonumber, error, pcall, next = type, tostring, tonumber, error, pcall, next
local lower, upper, format, find = string.lower, string.upper, string.format, string.find
local floor = math.floor

local function bad(msg) error({bad = msg}, 0) end

local function opt_str(t, k, path)
    local v = t[k]
    if v == nil or v == null or v == "" then return nil end
    if type(v) ~= "string" then bad("field '" .. path .. "' is not a string") end
    return v
end

local function req_str(t, k, path)
    local v = opt_str(t, k, path)
    if v == nil then bad("field '" .. path .. "' is missing") end
    return v
end

local function opt_obj(t, k, path)
    local v = t[k]
    if v == nil or v == null then return nil end
    if type(v) ~= "table" then bad("field '" .. path .. "' is not an object") end
    return v
end

local function req_obj(t, k, path)
    local v = opt_obj(t, k, path)
    if v == nil then bad("field '" .. path .. "' is missing") end
    return v
end

local EMPTY = setmetatable({}, {__newindex = function() error("EMPTY is read-only") end})

local function opt_arr(t, k, path)
    local v = opt_obj(t, k, path)
    if v == nil then return EMPTY end
    if next(v) ~= nil and v[1] == nil then bad("field '" .. path .. "' is not an array") end
    return v
end

-- Money {amount = "12.34", currencyCode = "USD"} -> "12.34", "USD"
local function money(t, k, path)
    local m = opt_obj(t, k, path)
    if not m then return nil end
    local a = m.amount
    if type(a) == "number" then a = tostring(a)
    elseif type(a) ~= "string" or not tonumber(a) then bad("field '" .. path .. ".amount' is not a decimal") end
    return a, opt_str(m, "currencyCode", path .. ".currencyCode")
end

local function decimals(s)
    local dot = find(s, ".", 1, true)
    return dot and #s - dot or 0
end

-- sums decimal strings, keeping the largest number of decimals seen
local function add_amount(acc, places, a)
    local d = decimals(a)
    return acc + tonumber(a), d > places and d or places
end

local function count(v, path)
    if v == nil or v == null then return nil end
    if type(v) ~= "number" or v < 0 or floor(v) ~= v then
        bad("field '" .. path .. "' is not a non-negative integer")
    end
    return v
end

local function shipping_of(breakdowns, path, acc, places, seen)
    for i = 1, #breakdowns do
        local b = breakdowns[i]
        if type(b) ~= "table" then bad("field '" .. path .. "[" .. i .. "]' is not an object") end
        if b.type == "SHIPPING" then
            local a = money(b, "subtotal", path .. "[" .. i .. "].subtotal")
            if a then acc, places = add_amount(acc, places, a); seen = true end
        end
    end
    return acc, places, seen
end

local function build(o, id)
    local order = {id = id}
    req_str(o, "createdTime", "createdTime")
    order.created = o.createdTime
    order.updated = req_str(o, "lastUpdatedTime", "lastUpdatedTime")
    local sc = req_obj(o, "salesChannel", "salesChannel")
    order.channel = opt_str(sc, "channelName", "salesChannel.channelName")
    order.marketplace_id = opt_str(sc, "marketplaceId", "salesChannel.marketplaceId")
    order.marketplace_name = opt_str(sc, "marketplaceName", "salesChannel.marketplaceName")

    local f = req_obj(o, "fulfillment", "fulfillment")
    order.status = req_str(f, "fulfillmentStatus", "fulfillment.fulfillmentStatus")
    order.fulfilled_by = opt_str(f, "fulfilledBy", "fulfillment.fulfilledBy") or "MERCHANT"
    order.fba = order.fulfilled_by == "AMAZON"
    order.service_level = opt_str(f, "fulfillmentServiceLevel", "fulfillment.fulfillmentServiceLevel")

    local programs, list = {}, {}
    local pa = opt_arr(o, "programs", "programs")
    for i = 1, #pa do
        local p = pa[i]
        if type(p) ~= "string" then bad("field 'programs[" .. i .. "]' is not a string") end
        programs[p] = true
        list[#list + 1] = p
    end
    order.programs, order.program_list = programs, list

    for i, a in next, opt_arr(o, "orderAliases", "orderAliases") do
        if type(a) == "table" and a.aliasType == "SELLER_ORDER_ID" then
            order.seller_order_id = opt_str(a, "aliasId", "orderAliases[" .. i .. "].aliasId")
        end
    end

    local b = opt_obj(o, "buyer", "buyer") or EMPTY
    local email = opt_str(b, "buyerEmail", "buyer.buyerEmail")
    order.buyer = {
        name = opt_str(b, "buyerName", "buyer.buyerName"),
        email = email,
        company = opt_str(b, "buyerCompanyName", "buyer.buyerCompanyName"),
        po = opt_str(b, "buyerPurchaseOrderNumber", "buyer.buyerPurchaseOrderNumber"),
    }
    order.customer_key = email and lower(email) or nil

    local r = opt_obj(o, "recipient", "recipient") or EMPTY
    local a = opt_obj(r, "deliveryAddress", "recipient.deliveryAddress") or EMPTY
    local p = "recipient.deliveryAddress."
    local country = opt_str(a, "countryCode", p .. "countryCode")
    local state = opt_str(a, "stateOrRegion", p .. "stateOrRegion")
    order.ship = {
        name = opt_str(a, "name", p .. "name"),
        company = opt_str(a, "companyName", p .. "companyName"),
        line1 = opt_str(a, "addressLine1", p .. "addressLine1"),
        line2 = opt_str(a, "addressLine2", p .. "addressLine2"),
        line3 = opt_str(a, "addressLine3", p .. "addressLine3"),
        city = opt_str(a, "city", p .. "city"),
        district = opt_str(a, "districtOrCounty", p .. "districtOrCounty"),
        state = state and upper(state) or nil,
        postal = opt_str(a, "postalCode", p .. "postalCode"),
        country = country and upper(country) or nil,
        phone = opt_str(a, "phone", p .. "phone"),
        type = opt_str(a, "addressType", p .. "addressType"),
    }

    local pr = opt_obj(o, "proceeds", "proceeds") or EMPTY
    order.total, order.currency = money(pr, "grandTotal", "proceeds.grandTotal")

    local ship_acc, ship_places, ship_seen =
        shipping_of(opt_arr(pr, "breakdowns", "proceeds.breakdowns"), "proceeds.breakdowns", 0, 0, false)

    local items = o.orderItems
    if items == nil or items == null then bad("field 'orderItems' is missing") end
    if type(items) ~= "table" or (next(items) ~= nil and items[1] == nil) then
        bad("field 'orderItems' is not an array")
    end
    local lines = {}
    local item_acc, item_places, item_seen = 0, 0, false
    for i = 1, #items do
        local it = items[i]
        local ip = "orderItems[" .. i .. "]"
        if type(it) ~= "table" then bad("field '" .. ip .. "' is not an object") end
        local prod = req_obj(it, "product", ip .. ".product")
        local qty = count(it.quantityOrdered, ip .. ".quantityOrdered")
        if qty == nil then bad("field '" .. ip .. ".quantityOrdered' is missing") end
        local itf = opt_obj(it, "fulfillment", ip .. ".fulfillment") or EMPTY
        local price = opt_obj(prod, "price", ip .. ".product.price") or EMPTY
        local ipr = opt_obj(it, "proceeds", ip .. ".proceeds") or EMPTY
        lines[i] = {
            item_id = req_str(it, "orderItemId", ip .. ".orderItemId"),
            sku = opt_str(prod, "sellerSku", ip .. ".product.sellerSku"),
            asin = opt_str(prod, "asin", ip .. ".product.asin"),
            title = opt_str(prod, "title", ip .. ".product.title"),
            qty = qty,
            qty_shipped = count(itf.quantityFulfilled, ip .. ".fulfillment.quantityFulfilled") or 0,
            unit_price = money(price, "unitPrice", ip .. ".product.price.unitPrice"),
            line_total = money(ipr, "proceedsTotal", ip .. ".proceeds.proceedsTotal"),
        }
        item_acc, item_places, item_seen = shipping_of(opt_arr(ipr, "breakdowns", ip .. ".proceeds.breakdowns"),
                                                       ip .. ".proceeds.breakdowns", item_acc, item_places, item_seen)
    end
    order.lines = lines
    -- order-level SHIPPING when Amazon sent it, else the sum over the items
    if ship_seen then order.shipping_total = format("%." .. ship_places .. "f", ship_acc)
    elseif item_seen then order.shipping_total = format("%." .. item_places .. "f", item_acc)
    else order.shipping_total = "0" end
    return order
end

return function(o)
    if type(o) ~= "table" then return nil, "order is not an object" end
    local id = o.orderId
    if id == nil or id == null or id == "" then return nil, "field 'orderId' is missing" end
    if type(id) ~= "string" then return nil, "field 'orderId' is not a string" end
    local ok, res = pcall(build, o, id)
    if ok then return res end
    if type(res) == "table" and res.bad then return nil, res.bad, id end
    error(res, 0)
end
