-- customer.lua (amazon-business): Amazon Business (B2B) buyers created by the download
-- join the "Wholesale" CRM group; everyone else follows the settings page.
---@type fun(order: sb.Order): sb.CustomerDecision
local GROUP = "Wholesale"

return function(order)
    local d = defaults.customer(order)
    if order.programs.AMAZON_BUSINESS and d.action == "insert" then d.group = GROUP end
    return d
end
