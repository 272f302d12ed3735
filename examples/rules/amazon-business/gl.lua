-- gl.lua (amazon-business): Amazon Business orders post to the wholesale sales account;
-- other orders use the account from the settings page (orders.gl_account).
---@type fun(order: sb.Order): sb.GlDecision
local WHOLESALE_GL = "4100"

return function(order)
    if order.programs.AMAZON_BUSINESS then return {account = WHOLESALE_GL} end
    return defaults.gl(order)
end
