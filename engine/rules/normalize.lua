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

-- order.raw: a read-only view of Amazon's order as decoded, for the fields the Order
-- table does not carry. Nested objects are wrapped as they are read, so a view costs two
-- small allocations and nothing a rule does reaches the decoded page.
local setmetatable, tostring = setmetatable, tostring
local target = setmetatable({}, {__mode = "k"})
local view_mt
local function view(t)
    local p = setmetatable({}, view_mt)
    target[p] = t
    return p
end
view_mt = {
    __index = function(p, k)
        local v = target[p][k]
        if type(v) == "table" then return view(v) end
        return v
    end,
    __newindex = function(_, k)
        error("attempt to modify read-only table 'order.raw' (field '" .. tostring(k) .. "')", 2)
    end,
    __len = function(p) return #target[p] end,
    __pairs = function(p)
        local t, k = target[p], nil
        return function()
            local v
            k, v = next(t, k)
            if type(v) == "table" then v = view(v) end
            return k, v
        end
    end,
    __metatable = false,
}

-- A field's path for a message: pre .. mid .. k, built only when there is a problem (a
-- number pre is the index of an order item). Building it for every field was a third of
-- the cost of normalising an order.
local function where(pre, mid, k)
    if type(pre) == "number" then pre = "orderItems[" .. pre .. "]" end
    return (pre or "") .. (mid or "") .. k
end

local function opt_str(t, k, pre, mid)
    local v = t[k]
    if v == nil or v == null or v == "" then return nil end
    if type(v) ~= "string" then bad("field '" .. where(pre, mid, k) .. "' is not a string") end
    return v
end

local function req_str(t, k, pre, mid)
    local v = opt_str(t, k, pre, mid)
    if v == nil then bad("field '" .. where(pre, mid, k) .. "' is missing") end
    return v
end

local function opt_obj(t, k, pre, mid)
    local v = t[k]
    if v == nil or v == null then return nil end
    if type(v) ~= "table" then bad("field '" .. where(pre, mid, k) .. "' is not an object") end
    return v
end

local function req_obj(t, k, pre, mid)
    local v = opt_obj(t, k, pre, mid)
    if v == nil then bad("field '" .. where(pre, mid, k) .. "' is missing") end
    return v
end

local EMPTY = setmetatable({}, {__newindex = function() error("EMPTY is read-only") end})

local function opt_arr(t, k, pre, mid)
    local v = opt_obj(t, k, pre, mid)
    if v == nil then return EMPTY end
    if next(v) ~= nil and v[1] == nil then bad("field '" .. where(pre, mid, k) .. "' is not an array") end
    return v
end

-- Money {amount = "12.34", currencyCode = "USD"} -> "12.34", "USD"
local function money(t, k, pre, mid)
    local m = opt_obj(t, k, pre, mid)
    if not m then return nil end
    local a = m.amount
    if type(a) == "number" then a = tostring(a)
    elseif type(a) ~= "string" or not tonumber(a) then bad("field '" .. where(pre, mid, k) .. ".amount' is not a decimal") end
    local c = m.currencyCode
    if c == nil or c == null or c == "" then return a, nil end
    if type(c) ~= "string" then bad("field '" .. where(pre, mid, k) .. ".currencyCode' is not a string") end
    return a, c
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

local function count(v, pre, mid, k)
    if v == nil or v == null then return nil end
    if type(v) ~= "number" or v < 0 or floor(v) ~= v then
        bad("field '" .. where(pre, mid, k) .. "' is not a non-negative integer")
    end
    return v
end

-- the SHIPPING subtotals of breakdowns (found at path pre .. mid)
local function shipping_of(breakdowns, pre, mid, acc, places, seen)
    for i = 1, #breakdowns do
        local b = breakdowns[i]
        if type(b) ~= "table" then bad("field '" .. where(pre, mid, "") .. "[" .. i .. "]' is not an object") end
        if b.type == "SHIPPING" then
            local a = money(b, "subtotal", where(pre, mid, ""), "[" .. i .. "].")
            if a then acc, places = add_amount(acc, places, a); seen = true end
        end
    end
    return acc, places, seen
end

-- Fields are read into locals in the order the checks should report problems, and the
-- tables are built by constructors (sized once) rather than grown a field at a time.
local function build(o, id)
    local created = req_str(o, "createdTime")
    local updated = req_str(o, "lastUpdatedTime")
    local sc = req_obj(o, "salesChannel")
    local channel = opt_str(sc, "channelName", "salesChannel.")
    local marketplace_id = opt_str(sc, "marketplaceId", "salesChannel.")
    local marketplace_name = opt_str(sc, "marketplaceName", "salesChannel.")

    local f = req_obj(o, "fulfillment")
    local status = req_str(f, "fulfillmentStatus", "fulfillment.")
    local fulfilled_by = opt_str(f, "fulfilledBy", "fulfillment.") or "MERCHANT"
    local service_level = opt_str(f, "fulfillmentServiceLevel", "fulfillment.")

    local programs, list = {}, {}
    local pa = opt_arr(o, "programs")
    for i = 1, #pa do
        local p = pa[i]
        if type(p) ~= "string" then bad("field 'programs[" .. i .. "]' is not a string") end
        programs[p] = true
        list[i] = p
    end

    local seller_order_id
    for i, a in next, opt_arr(o, "orderAliases") do
        if type(a) == "table" and a.aliasType == "SELLER_ORDER_ID" then
            seller_order_id = opt_str(a, "aliasId", "orderAliases[" .. i .. "].")
        end
    end

    local b = opt_obj(o, "buyer") or EMPTY
    local email = opt_str(b, "buyerEmail", "buyer.")
    local buyer = {
        name = opt_str(b, "buyerName", "buyer."),
        email = email,
        company = opt_str(b, "buyerCompanyName", "buyer."),
        po = opt_str(b, "buyerPurchaseOrderNumber", "buyer."),
    }

    local r = opt_obj(o, "recipient") or EMPTY
    local a = opt_obj(r, "deliveryAddress", "recipient.") or EMPTY
    local p = "recipient.deliveryAddress."
    local country = opt_str(a, "countryCode", p)
    local state = opt_str(a, "stateOrRegion", p)
    local ship = {
        name = opt_str(a, "name", p),
        company = opt_str(a, "companyName", p),
        line1 = opt_str(a, "addressLine1", p),
        line2 = opt_str(a, "addressLine2", p),
        line3 = opt_str(a, "addressLine3", p),
        city = opt_str(a, "city", p),
        district = opt_str(a, "districtOrCounty", p),
        state = state and upper(state) or nil,
        postal = opt_str(a, "postalCode", p),
        country = country and upper(country) or nil,
        phone = opt_str(a, "phone", p),
        type = opt_str(a, "addressType", p),
    }

    local pr = opt_obj(o, "proceeds") or EMPTY
    local total, currency = money(pr, "grandTotal", "proceeds.")

    local ship_acc, ship_places, ship_seen =
        shipping_of(opt_arr(pr, "breakdowns", "proceeds."), "proceeds.", "breakdowns", 0, 0, false)

    local items = o.orderItems
    if items == nil or items == null then bad("field 'orderItems' is missing") end
    if type(items) ~= "table" or (next(items) ~= nil and items[1] == nil) then
        bad("field 'orderItems' is not an array")
    end
    local lines, skus = {}, {}
    local item_acc, item_places, item_seen = 0, 0, false
    for i = 1, #items do
        local it = items[i]
        if type(it) ~= "table" then bad("field 'orderItems[" .. i .. "]' is not an object") end
        local prod = req_obj(it, "product", i, ".")
        local qty = count(it.quantityOrdered, i, ".", "quantityOrdered")
        if qty == nil then bad("field '" .. where(i, ".", "quantityOrdered") .. "' is missing") end
        local itf = opt_obj(it, "fulfillment", i, ".") or EMPTY
        local price = opt_obj(prod, "price", i, ".product.") or EMPTY
        local ipr = opt_obj(it, "proceeds", i, ".") or EMPTY
        lines[i] = {
            item_id = req_str(it, "orderItemId", i, "."),
            sku = opt_str(prod, "sellerSku", i, ".product."),
            asin = opt_str(prod, "asin", i, ".product."),
            title = opt_str(prod, "title", i, ".product."),
            qty = qty,
            qty_shipped = count(itf.quantityFulfilled, i, ".fulfillment.", "quantityFulfilled") or 0,
            unit_price = money(price, "unitPrice", i, ".product.price."),
            line_total = money(ipr, "proceedsTotal", i, ".proceeds."),
        }
        local sku = lines[i].sku
        if sku and qty > 0 then skus[sku] = (skus[sku] or 0) + qty end
        local bd = ipr.breakdowns
        if bd ~= nil then
            item_acc, item_places, item_seen = shipping_of(opt_arr(ipr, "breakdowns", i, ".proceeds."),
                                                           i, ".proceeds.breakdowns", item_acc, item_places, item_seen)
        end
    end
    -- order-level SHIPPING when Amazon sent it, else the sum over the items
    local shipping_total
    if ship_seen then shipping_total = format("%." .. ship_places .. "f", ship_acc)
    elseif item_seen then shipping_total = format("%." .. item_places .. "f", item_acc)
    else shipping_total = "0" end
    return {
        id = id,
        created = created,
        updated = updated,
        channel = channel,
        marketplace_id = marketplace_id,
        marketplace_name = marketplace_name,
        status = status,
        fulfilled_by = fulfilled_by,
        fba = fulfilled_by == "AMAZON",
        service_level = service_level,
        programs = programs,
        program_list = list,
        seller_order_id = seller_order_id,
        buyer = buyer,
        customer_key = email and lower(email) or nil,
        ship = ship,
        total = total,
        currency = currency,
        lines = lines,
        skus = skus,
        shipping_total = shipping_total,
        raw = view(o),
    }
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
