-- gl.lua (default pack): the alternative GL account for the order (orders.gl_account),
-- nil for the default account.
---@type fun(order: sb.Order): sb.GlDecision
return function(order)
    return {account = settings["orders.gl_account"]}
end
