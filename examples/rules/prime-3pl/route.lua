-- route.lua (prime-3pl): merchant-fulfilled Prime orders are held for the 3PL branch
-- (the 3PL ships them within the Prime promise, whatever our own stock says); every
-- other order is routed by the default pack.
---@type fun(order: sb.Order): sb.RouteDecision
local THREE_PL = "3PL"

return function(order)
    if not order.fba and order.programs.PRIME then
        return {branch = THREE_PL, distribution_branch = settings["orders.distribution_branch"],
                reason = "Prime order held for the 3PL"}
    end
    return defaults.route(order)
end
